/* SPDX-License-Identifier: Apache-2.0 */
/* client/lib/tasks.c: one libshimvisor function per unary method of shimvisor.v1.Control. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/lib/client_impl.h"
#include "common/ids.h"
#include "wire/pbio.h"
#include "wire/status.h"

static void set_id(char dst[SV_ID_SZ], const char *id)
{
	size_t n = strlen(id);      /* checked by sv_client_check_id: < SV_ID_SZ */

	memcpy(dst, id, n + 1);
}

/* A request's own id field: NUL-terminated within it, then valid. */
static int check_req_id(struct sv_client *c, const char id[SV_ID_SZ])
{
	if (memchr(id, '\0', SV_ID_SZ) == NULL)
		return sv_client_fail(c, -EINVAL, "invalid id: not terminated");
	return sv_client_check_id(c, id);
}

/* An exec id; with optional, NULL or "" means none (the task's init). */
static int check_exec_id(struct sv_client *c, const char *exec_id, bool optional)
{
	if (optional && (!exec_id || !*exec_id))
		return 0;
	if (!exec_id || !sv_id_valid(exec_id))
		return sv_client_fail(c, -EINVAL,
				      "invalid exec id: must match " SV_ID_RULE);
	return 0;
}

/* Check exec_id as check_exec_id does and copy it into a request's field ("" for none). */
static int set_exec_id(struct sv_client *c, char dst[SV_ID_SZ], const char *exec_id, bool optional)
{
	int err = check_exec_id(c, exec_id, optional);

	if (err == 0)
		set_id(dst, exec_id ? exec_id : "");
	return err;
}

/* A call about the task id: req_id is req's id field, filled here once id is checked;
 * resp_fields NULL for an Empty answer. */
static int id_call(struct sv_client *c, const char *method, const pb_msgdesc_t *req_fields,
		   void *req, char req_id[SV_ID_SZ], const char *id, const pb_msgdesc_t *resp_fields,
		   void *resp)
{
	int err = sv_client_check_id(c, id);

	if (err < 0)
		return err;
	set_id(req_id, id);
	return sv_client_call(c, method, c->timeout_ms, req_fields, req, resp_fields, resp);
}

/* The connection was lost during a Create (or the Start behind it, what says which): whether
 * the daemon made (or started) the task is unknown here.
 * The daemon's listener outlives its engine (a new engine serves what waited in its
 * backlog), so connect again and ask: a create is kept only once committed, and one that
 * was not is rolled back at the restart (DESIGN, "No half-done create"). The caller is told
 * which; err (the call's own error) is returned either way. */
#define LOST_STATE_TRIES 100

static int create_lost(struct sv_client *c, const char *what, const char *id, int err)
{
	sv_StateResponse st;
	char why[sizeof(c->last_err)];
	int r;

	snprintf(why, sizeof(why), "%s", c->last_err);
	r = sv_client_reconnect(c);
	if (r == 0)
		r = sv_state(c, id, &st);
	/* found, and being re-attached by the new engine: its state in a moment */
	for (int i = 0; r == 0 && st.status == sv_TaskStatus_UNKNOWN && i < LOST_STATE_TRIES; i++) {
		sv_pb_free(sv_StateResponse_fields, &st);
		poll(NULL, 0, 10);
		r = sv_state(c, id, &st);
	}
	if (r == 0) {
		sv_client_fail(c, err, "the daemon restarted during %s; task %s exists (%s)", what,
			       id, sv_status_name(st.status));
		sv_pb_free(sv_StateResponse_fields, &st);
	} else if (r == -ENOENT && c->last_code == SV_NOT_FOUND) {
		sv_client_fail(c, err, "the daemon restarted during %s; task %s %s", what, id,
			       strcmp(what, "create") ? "does not exist" : "was rolled back");
	} else {
		sv_client_fail(c, err, "%s; task %s: not known whether it exists (%s)", why, id,
			       c->last_err[0] ? c->last_err : strerror(-r));
	}
	return err;
}

/* A failed send or receive that leaves the Create's fate unknown. */
static bool lost(int err)
{
	return err == -ECONNRESET || err == -EPIPE;
}

int sv_create(struct sv_client *c, const sv_CtlCreateRequest *req, uint32_t *pid)
{
	sv_CreateTaskResponse resp;
	int err;

	err = check_req_id(c, req->id);
	if (err < 0)
		return err;
	err = sv_client_call(c, "Create", c->timeout_ms, sv_CtlCreateRequest_fields, req,
			     sv_CreateTaskResponse_fields, &resp);
	if (lost(err))
		return create_lost(c, "create", req->id, err);
	if (err < 0)
		return err;
	if (pid)
		*pid = resp.pid;
	sv_pb_free(sv_CreateTaskResponse_fields, &resp);
	return 0;
}

int sv_create_start(struct sv_client *c, const sv_CtlCreateRequest *req, uint32_t *pid)
{
	sv_StartRequest sreq = sv_StartRequest_init_zero;
	sv_CreateTaskResponse cresp;
	sv_StartResponse sresp;
	uint32_t s1, s2;
	int err, err2;

	err = check_req_id(c, req->id);
	if (err < 0)
		return err;
	set_id(sreq.id, req->id);
	/* both requests leave at once; the daemon answers Create, then Start (or both with
	 * Create's error) */
	err = sv_client_send(c, "Create", sv_CtlCreateRequest_fields, req, &s1);
	if (err == 0)
		err = sv_client_send(c, "Start", sv_StartRequest_fields, &sreq, &s2);
	if (err == 0)
		err = sv_client_recv(c, s1, c->timeout_ms, sv_CreateTaskResponse_fields, &cresp);
	if (lost(err))
		return create_lost(c, "create", req->id, err);
	if (err == 0)
		sv_pb_free(sv_CreateTaskResponse_fields, &cresp);
	else if (err == -ETIMEDOUT || c->last_code == SV_OK)
		return err;     /* a local error: no answer to the Start follows */
	if (err < 0) {
		/* the daemon also answers the Start; keep Create's error for the caller */
		char keep[sizeof(c->last_err)];
		int code = c->last_code;

		memcpy(keep, c->last_err, sizeof(keep));
		if (sv_client_recv(c, s2, c->timeout_ms, sv_StartResponse_fields, &sresp) == 0)
			sv_pb_free(sv_StartResponse_fields, &sresp);
		memcpy(c->last_err, keep, sizeof(keep));
		c->last_code = code;
		return err;
	}
	err2 = sv_client_recv(c, s2, c->timeout_ms, sv_StartResponse_fields, &sresp);
	if (err2 < 0) {
		/* our Create made the task and its Start failed: remove it (forced), keeping
		 * Start's error for the caller. Nothing else is ever deleted here: a Create that
		 * failed ("already exists") made nothing, and a timeout leaves its fate unknown */
		if (lost(err2))
			return create_lost(c, "start", req->id, err2);
		if (err2 != -ETIMEDOUT) {
			char keep[sizeof(c->last_err)];
			int code = c->last_code;

			memcpy(keep, c->last_err, sizeof(keep));
			(void)sv_delete(c, req->id, true, NULL);
			memcpy(c->last_err, keep, sizeof(keep));
			c->last_code = code;
		}
		return err2;
	}
	if (pid)
		*pid = sresp.pid;
	sv_pb_free(sv_StartResponse_fields, &sresp);
	return 0;
}

/* A call answered with a StartResponse (Start, Exec): its pid into *pid (may be NULL). */
static int start_call(struct sv_client *c, const char *method, const pb_msgdesc_t *req_fields,
		      const void *req, uint32_t *pid)
{
	sv_StartResponse resp;
	int err = sv_client_call(c, method, c->timeout_ms, req_fields, req,
				 sv_StartResponse_fields, &resp);

	if (err < 0)
		return err;
	if (pid)
		*pid = resp.pid;
	sv_pb_free(sv_StartResponse_fields, &resp);
	return 0;
}

int sv_start(struct sv_client *c, const char *id, uint32_t *pid)
{
	sv_StartRequest req = sv_StartRequest_init_zero;
	int err = sv_client_check_id(c, id);

	if (err < 0)
		return err;
	set_id(req.id, id);
	return start_call(c, "Start", sv_StartRequest_fields, &req, pid);
}

int sv_exec(struct sv_client *c, const sv_CtlExecRequest *req, uint32_t *pid)
{
	int err = check_req_id(c, req->id);

	if (err < 0)
		return err;
	/* an exec_id not terminated within its field is as invalid as an empty one */
	err = check_exec_id(c, memchr(req->exec_id, '\0', sizeof(req->exec_id)) ? req->exec_id : NULL,
			    false);
	if (err < 0)
		return err;
	return start_call(c, "Exec", sv_CtlExecRequest_fields, req, pid);
}

/* Kill one process (exec_id NULL or "" = the init), or with all every process of the task. */
static int kill_call(struct sv_client *c, const char *id, const char *exec_id, uint32_t sig,
		     bool all)
{
	sv_KillRequest req = sv_KillRequest_init_zero;
	int err = set_exec_id(c, req.exec_id, exec_id, true);

	if (err < 0)
		return err;
	req.signal = sig;
	req.all = all;
	return id_call(c, "Kill", sv_KillRequest_fields, &req, req.id, id, NULL, NULL);
}

int sv_kill(struct sv_client *c, const char *id, uint32_t sig, bool all)
{
	return kill_call(c, id, NULL, sig, all);
}

int sv_signal(struct sv_client *c, const char *id, const char *exec_id, uint32_t sig)
{
	return kill_call(c, id, exec_id, sig, false);
}

int sv_wait_exec_send(struct sv_client *c, const char *id, const char *exec_id)
{
	sv_WaitRequest req = sv_WaitRequest_init_zero;
	uint32_t stream;
	int err = sv_client_check_id(c, id);

	if (err == 0)
		err = set_exec_id(c, req.exec_id, exec_id, true);
	if (err < 0)
		return err;
	if (c->sub_stream || c->wait_stream)
		return sv_client_fail(c, -EBUSY, "connection is busy");
	set_id(req.id, id);
	err = sv_client_send(c, "Wait", sv_WaitRequest_fields, &req, &stream);
	if (err < 0)
		return err;
	c->wait_stream = stream;
	return 0;
}

int sv_wait_send(struct sv_client *c, const char *id)
{
	return sv_wait_exec_send(c, id, NULL);
}

int sv_wait_recv(struct sv_client *c, uint32_t *status, sv_Timestamp *exited_at)
{
	sv_WaitResponse resp;
	uint32_t stream = c->wait_stream;
	int err;

	if (!stream)
		return sv_client_fail(c, -EINVAL, "no wait pending");
	err = sv_client_recv(c, stream, -1, sv_WaitResponse_fields, &resp);
	c->wait_stream = 0;
	if (err < 0)
		return err;
	if (status)
		*status = resp.exit_status;
	if (exited_at) {
		if (resp.has_exited_at)
			*exited_at = resp.exited_at;
		else
			*exited_at = (sv_Timestamp)sv_Timestamp_init_zero;
	}
	sv_pb_free(sv_WaitResponse_fields, &resp);
	return 0;
}

int sv_wait(struct sv_client *c, const char *id, uint32_t *status, sv_Timestamp *exited_at)
{
	int err = sv_wait_send(c, id);

	if (err < 0)
		return err;
	return sv_wait_recv(c, status, exited_at);
}

int sv_state(struct sv_client *c, const char *id, sv_StateResponse *out)
{
	sv_StateRequest req = sv_StateRequest_init_zero;

	memset(out, 0, sizeof(*out));
	return id_call(c, "State", sv_StateRequest_fields, &req, req.id, id,
		       sv_StateResponse_fields, out);
}

int sv_inspect(struct sv_client *c, const char *id, sv_CtlInspectResponse *out)
{
	sv_CtlInspectRequest req = sv_CtlInspectRequest_init_zero;

	memset(out, 0, sizeof(*out));
	return id_call(c, "Inspect", sv_CtlInspectRequest_fields, &req, req.id, id,
		       sv_CtlInspectResponse_fields, out);
}

int sv_pids(struct sv_client *c, const char *id, uint32_t **pids, size_t *n)
{
	sv_PidsRequest req = sv_PidsRequest_init_zero;
	sv_PidsResponse resp;
	int err = sv_client_check_id(c, id);

	*pids = NULL;
	*n = 0;
	if (err < 0)
		return err;
	set_id(req.id, id);
	err = sv_client_call(c, "Pids", c->timeout_ms, sv_PidsRequest_fields, &req,
			     sv_PidsResponse_fields, &resp);
	if (err < 0)
		return err;
	if (resp.processes_count) {
		*pids = calloc(resp.processes_count, sizeof(**pids));
		if (!*pids) {
			sv_pb_free(sv_PidsResponse_fields, &resp);
			return sv_client_fail(c, -ENOMEM, "out of memory");
		}
		for (pb_size_t i = 0; i < resp.processes_count; i++)
			(*pids)[i] = resp.processes[i].pid;
		*n = resp.processes_count;
	}
	sv_pb_free(sv_PidsResponse_fields, &resp);
	return 0;
}

int sv_processes(struct sv_client *c, const char *id, sv_PidsResponse *out)
{
	sv_PidsRequest req = sv_PidsRequest_init_zero;

	memset(out, 0, sizeof(*out));
	return id_call(c, "Pids", sv_PidsRequest_fields, &req, req.id, id, sv_PidsResponse_fields, out);
}

int sv_restart(struct sv_client *c, const char *id)
{
	sv_CtlRestartRequest req = sv_CtlRestartRequest_init_zero;

	return id_call(c, "Restart", sv_CtlRestartRequest_fields, &req, req.id, id, NULL, NULL);
}

/* Delete the task (exec_id NULL) or one of its execs. */
static int delete_call(struct sv_client *c, const char *id, bool force, const char *exec_id,
		       sv_DeleteResponse *out)
{
	sv_CtlDeleteRequest req = sv_CtlDeleteRequest_init_zero;
	sv_DeleteResponse resp;
	int err = sv_client_check_id(c, id);

	if (out)
		memset(out, 0, sizeof(*out));
	if (err == 0 && exec_id)
		err = set_exec_id(c, req.exec_id, exec_id, false);
	if (err < 0)
		return err;
	set_id(req.id, id);
	req.force = force;
	err = sv_client_call(c, "Delete", c->timeout_ms, sv_CtlDeleteRequest_fields, &req,
			     sv_DeleteResponse_fields, out ? out : &resp);
	if (err == 0 && !out)
		sv_pb_free(sv_DeleteResponse_fields, &resp);
	return err;
}

int sv_delete(struct sv_client *c, const char *id, bool force, sv_DeleteResponse *out)
{
	return delete_call(c, id, force, NULL, out);
}

int sv_delete_exec(struct sv_client *c, const char *id, const char *exec_id,
		   sv_DeleteResponse *out)
{
	/* NULL here would delete the task itself: only an exec is meant */
	return delete_call(c, id, false, exec_id ? exec_id : "", out);
}

int sv_list(struct sv_client *c, sv_CtlListResponse *out)
{
	sv_CtlListRequest req = sv_CtlListRequest_init_zero;

	memset(out, 0, sizeof(*out));
	return sv_client_call(c, "List", c->timeout_ms, sv_CtlListRequest_fields, &req,
			      sv_CtlListResponse_fields, out);
}

int sv_version(struct sv_client *c, sv_CtlVersionResponse *out)
{
	sv_Empty req = sv_Empty_init_zero;

	memset(out, 0, sizeof(*out));
	return sv_client_call(c, "Version", c->timeout_ms, sv_Empty_fields, &req,
			      sv_CtlVersionResponse_fields, out);
}

int sv_pause(struct sv_client *c, const char *id)
{
	sv_PauseRequest req = sv_PauseRequest_init_zero;

	return id_call(c, "Pause", sv_PauseRequest_fields, &req, req.id, id, NULL, NULL);
}

int sv_resume(struct sv_client *c, const char *id)
{
	sv_ResumeRequest req = sv_ResumeRequest_init_zero;

	return id_call(c, "Resume", sv_ResumeRequest_fields, &req, req.id, id, NULL, NULL);
}

int sv_stats(struct sv_client *c, const char *id, sv_StatsResponse *out)
{
	sv_StatsRequest req = sv_StatsRequest_init_zero;

	memset(out, 0, sizeof(*out));
	return id_call(c, "Stats", sv_StatsRequest_fields, &req, req.id, id,
		       sv_StatsResponse_fields, out);
}

int sv_update(struct sv_client *c, const sv_CtlUpdateRequest *req)
{
	int err = check_req_id(c, req->id);

	if (err < 0)
		return err;
	return sv_client_call(c, "Update", c->timeout_ms, sv_CtlUpdateRequest_fields, req,
			      NULL, NULL);
}

int sv_resize_pty(struct sv_client *c, const char *id, const char *exec_id, uint32_t width,
		  uint32_t height)
{
	sv_ResizePtyRequest req = sv_ResizePtyRequest_init_zero;
	int err = set_exec_id(c, req.exec_id, exec_id, true);

	if (err < 0)
		return err;
	req.width = width;
	req.height = height;
	return id_call(c, "ResizePty", sv_ResizePtyRequest_fields, &req, req.id, id, NULL, NULL);
}

int sv_process(struct sv_client *c, const char *id, const char *exec_id, sv_StateResponse *out)
{
	sv_StateRequest req = sv_StateRequest_init_zero;
	int err;

	memset(out, 0, sizeof(*out));
	err = set_exec_id(c, req.exec_id, exec_id, true);
	if (err < 0)
		return err;
	return id_call(c, "Process", sv_StateRequest_fields, &req, req.id, id,
		       sv_StateResponse_fields, out);
}
