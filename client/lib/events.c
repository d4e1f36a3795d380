/* SPDX-License-Identifier: Apache-2.0 */
/* client/lib/events.c: libshimvisor's event stream (Subscribe) and event decoding by type_url. */
#include <errno.h>
#include <string.h>

#include "client/lib/client_impl.h"
#include "wire/pbio.h"
#include "wire/status.h"

#define TYPE_PREFIX "containerd.events."

static const char *const kind_names[] = {
	[SV_EVENT_UNKNOWN] = NULL,
	[SV_EVENT_CREATE] = "TaskCreate",
	[SV_EVENT_START] = "TaskStart",
	[SV_EVENT_EXIT] = "TaskExit",
	[SV_EVENT_DELETE] = "TaskDelete",
	[SV_EVENT_OOM] = "TaskOOM",
	[SV_EVENT_EXEC_ADDED] = "TaskExecAdded",
	[SV_EVENT_EXEC_STARTED] = "TaskExecStarted",
	[SV_EVENT_PAUSED] = "TaskPaused",
	[SV_EVENT_RESUMED] = "TaskResumed",
};

const char *sv_status_name(uint32_t status)
{
	switch (status) {
	case sv_TaskStatus_CREATED: return "created";
	case sv_TaskStatus_RUNNING: return "running";
	case sv_TaskStatus_STOPPED: return "stopped";
	case sv_TaskStatus_PAUSED:  return "paused";
	case sv_TaskStatus_PAUSING: return "pausing";
	default:                    return "unknown";
	}
}

int sv_subscribe(struct sv_client *c)
{
	sv_CtlSubscribeRequest req = sv_CtlSubscribeRequest_init_zero;
	uint32_t stream;
	int err;

	if (c->sub_stream || c->wait_stream)
		return sv_client_fail(c, -EBUSY, "connection is busy");
	err = sv_client_send(c, "Subscribe", sv_CtlSubscribeRequest_fields, &req, &stream);
	if (err < 0)
		return err;
	c->sub_stream = stream;
	return 0;
}

int sv_next_event(struct sv_client *c, sv_Envelope *env, int timeout_ms)
{
	int err;

	memset(env, 0, sizeof(*env));
	if (!c->sub_stream)
		return sv_client_fail(c, -EINVAL, "not subscribed");
	for (;;) {
		err = sv_client_recv(c, c->sub_stream, timeout_ms, sv_Envelope_fields, env);
		if (err < 0)
			return err;
		/* An empty frame (an acknowledgement) carries no event: wait for the next. */
		if (env->has_event || (env->topic && *env->topic))
			return 0;
		sv_pb_free(sv_Envelope_fields, env);
	}
}

/* Copy a decoded string into a fixed field. */
static int cp(char *dst, size_t sz, const char *src)
{
	return sv_strlcpy_pb(dst, sz, src) < 0 ? -EBADMSG : 0;
}

static void set_exec(struct sv_event *ev, const char *exec_id)
{
	if (exec_id && *exec_id && strcmp(exec_id, ev->container_id) != 0 &&
	    cp(ev->exec_id, sizeof(ev->exec_id), exec_id) == 0)
		ev->fields |= SV_EVF_EXEC_ID;
}

static void set_time(struct sv_event *ev, bool has, const sv_Timestamp *ts)
{
	ev->fields |= SV_EVF_EXITED_AT;
	if (has)
		ev->exited_at = *ts;
}

static int decode_known(struct sv_event *ev, const void *buf, size_t len)
{
	union {
		sv_TaskCreate create; sv_TaskStart start; sv_TaskExit exit; sv_TaskDelete del;
		sv_TaskOOM oom; sv_TaskExecAdded added; sv_TaskExecStarted started;
		sv_TaskPaused paused; sv_TaskResumed resumed;
	} m;
	const pb_msgdesc_t *f;
	const char *cid;
	int err = 0;

	switch (ev->kind) {
	case SV_EVENT_CREATE:       f = sv_TaskCreate_fields; cid = m.create.container_id; break;
	case SV_EVENT_START:        f = sv_TaskStart_fields; cid = m.start.container_id; break;
	case SV_EVENT_EXIT:         f = sv_TaskExit_fields; cid = m.exit.container_id; break;
	case SV_EVENT_DELETE:       f = sv_TaskDelete_fields; cid = m.del.container_id; break;
	case SV_EVENT_OOM:          f = sv_TaskOOM_fields; cid = m.oom.container_id; break;
	case SV_EVENT_EXEC_ADDED:   f = sv_TaskExecAdded_fields; cid = m.added.container_id; break;
	case SV_EVENT_EXEC_STARTED: f = sv_TaskExecStarted_fields; cid = m.started.container_id; break;
	case SV_EVENT_PAUSED:       f = sv_TaskPaused_fields; cid = m.paused.container_id; break;
	case SV_EVENT_RESUMED:      f = sv_TaskResumed_fields; cid = m.resumed.container_id; break;
	default:                    return 0;
	}
	if (sv_pb_decode(f, &m, buf, len) < 0)
		return -EBADMSG;
	if (cp(ev->container_id, sizeof(ev->container_id), cid) < 0)
		err = -EBADMSG;
	switch (ev->kind) {
	case SV_EVENT_CREATE:
		ev->fields |= SV_EVF_PID | SV_EVF_BUNDLE;
		ev->pid = m.create.pid;
		if (cp(ev->bundle, sizeof(ev->bundle), m.create.bundle) < 0)
			err = -EBADMSG;
		break;
	case SV_EVENT_START:
		ev->fields |= SV_EVF_PID;
		ev->pid = m.start.pid;
		break;
	case SV_EVENT_EXIT:
		ev->fields |= SV_EVF_PID | SV_EVF_EXIT_STATUS;
		ev->pid = m.exit.pid;
		ev->exit_status = m.exit.exit_status;
		set_time(ev, m.exit.has_exited_at, &m.exit.exited_at);
		set_exec(ev, m.exit.id);
		break;
	case SV_EVENT_DELETE:
		ev->fields |= SV_EVF_PID | SV_EVF_EXIT_STATUS;
		ev->pid = m.del.pid;
		ev->exit_status = m.del.exit_status;
		set_time(ev, m.del.has_exited_at, &m.del.exited_at);
		set_exec(ev, m.del.id);
		break;
	case SV_EVENT_EXEC_ADDED:
		set_exec(ev, m.added.exec_id);
		break;
	case SV_EVENT_EXEC_STARTED:
		ev->fields |= SV_EVF_PID;
		ev->pid = m.started.pid;
		set_exec(ev, m.started.exec_id);
		break;
	default:
		break;
	}
	sv_pb_free(f, &m);
	return err;
}

int sv_event_decode(const sv_Envelope *env, struct sv_event *ev)
{
	const char *url = env->has_event ? env->event.type_url : NULL;
	const pb_bytes_array_t *v = env->has_event ? env->event.value : NULL;
	static const uint8_t empty[1];

	memset(ev, 0, sizeof(*ev));
	ev->name = "";
	if (!url)
		return 0;
	ev->name = url;
	if (strncmp(url, TYPE_PREFIX, strlen(TYPE_PREFIX)) != 0)
		return 0;
	ev->name = url + strlen(TYPE_PREFIX);
	for (unsigned k = SV_EVENT_CREATE; k <= SV_EVENT_RESUMED; k++) {
		if (strcmp(ev->name, kind_names[k]) == 0) {
			ev->kind = (enum sv_event_kind)k;
			ev->name = kind_names[k];
			break;
		}
	}
	if (ev->kind == SV_EVENT_UNKNOWN)
		return 0;
	return decode_known(ev, v ? (const void *)v->bytes : (const void *)empty, v ? v->size : 0);
}
