/* SPDX-License-Identifier: Apache-2.0 */
/* client/shimvisor.h: libshimvisor, the C client API of shimvisord's control socket. */
#ifndef SHIMVISOR_H
#define SHIMVISOR_H
/*
 * One `struct sv_client` is one connection to shimvisord (ttrpc over a unix socket). Calls
 * are blocking and unary, one at a time per client; a program that needs two things at once
 * (e.g. stream output while a Wait is pending, or follow events while it sends commands)
 * opens a second client. Every function returns 0 or a negative errno; a status from the
 * daemon is mapped to an errno:
 *
 *   NOT_FOUND -ENOENT, ALREADY_EXISTS -EEXIST, INVALID_ARGUMENT -EINVAL,
 *   FAILED_PRECONDITION -EBUSY, UNIMPLEMENTED -ENOSYS, UNAVAILABLE -ECONNREFUSED,
 *   DEADLINE_EXCEEDED -ETIMEDOUT, any other code -EIO.
 *
 * sv_last_error() then holds the daemon's message (or a local description) and
 * sv_last_code() the ttrpc status code (SV_OK for local errors).
 *
 * Messages are the nanopb structs generated from wire/control.proto and wire/task.proto
 * (and wire/metrics.proto for what sv_stats answers).
 * Decoded responses own heap memory: release them with sv_pb_free(sv_<Msg>_fields, msg)
 * (wire/pbmsg.h). Request strings other than ids are plain `char *` pointers owned by the
 * caller.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/ids.h"
#include "control.pb.h"
#include "metrics.pb.h"
#include "task.pb.h"
#include "wire/pbmsg.h"

#define SV_DEFAULT_ADDRESS   "/run/shimvisor/shimvisord.sock"
#define SV_ENV_ADDRESS       "SHIMVISOR_ADDRESS"
#define SV_ENV_NAMESPACE     "SHIMVISOR_NAMESPACE"
#define SV_CALL_TIMEOUT_MS   60000      /* default per-call limit; Wait has none */

struct sv_client;

/* Connect to address (a path, "unix://" accepted); NULL = $SHIMVISOR_ADDRESS or
 * SV_DEFAULT_ADDRESS. The namespace starts as $SHIMVISOR_NAMESPACE or "default". */
int sv_connect(const char *address, struct sv_client **out);
void sv_close(struct sv_client *c);                       /* NULL is fine */
/* -EINVAL unless ns matches SV_ID_RULE (common/ids.h). */
int sv_set_namespace(struct sv_client *c, const char *ns);
const char *sv_namespace(const struct sv_client *c);
/* Per-call limit in ms for every call but Wait and events (-1 = none). */
void sv_set_timeout(struct sv_client *c, int timeout_ms);
const char *sv_last_error(const struct sv_client *c);
int sv_last_code(const struct sv_client *c);
/* The connection's fd, for poll() with sv_wait_send/sv_wait_recv or sv_next_event. */
int sv_client_fd(const struct sv_client *c);
/* The address sv_connect(NULL, ...) uses. */
const char *sv_default_address(void);

/* Task methods of shimvisor.v1.Control. Ids are checked with sv_id_valid first (-EINVAL). */
int sv_create(struct sv_client *c, const sv_CtlCreateRequest *req, uint32_t *pid);
/* Create and start in one exchange (both requests sent before any reply is read): `run`.
 * A Start that fails after this Create made the task removes it again; a failed Create
 * touches nothing (an id already in use stays as it is). */
int sv_create_start(struct sv_client *c, const sv_CtlCreateRequest *req, uint32_t *pid);
int sv_start(struct sv_client *c, const char *id, uint32_t *pid);
int sv_kill(struct sv_client *c, const char *id, uint32_t sig, bool all);
/* Signal one process: the exec exec_id, or the init when exec_id is NULL or "". */
int sv_signal(struct sv_client *c, const char *id, const char *exec_id, uint32_t sig);
/* Blocks until the task has exited (at once if it has). exited_at may be NULL. */
int sv_wait(struct sv_client *c, const char *id, uint32_t *status, sv_Timestamp *exited_at);
/* The same in two halves, for a poll loop: send, then receive once sv_client_fd() is
 * readable (sv_wait_recv blocks until the answer is whole). One pending wait per client. */
int sv_wait_send(struct sv_client *c, const char *id);
/* sv_wait_send for the exec exec_id (NULL or "" = the task itself); sv_wait_recv answers. */
int sv_wait_exec_send(struct sv_client *c, const char *id, const char *exec_id);
int sv_wait_recv(struct sv_client *c, uint32_t *status, sv_Timestamp *exited_at);
/* out: free with sv_pb_free(sv_StateResponse_fields, out). status is an sv_TaskStatus. */
int sv_state(struct sv_client *c, const char *id, sv_StateResponse *out);
/* The task's state (as sv_state's) and the summary of its config.json the daemon made at
 * create (out->has_summary false: it holds none). Free with
 * sv_pb_free(sv_CtlInspectResponse_fields, out). */
int sv_inspect(struct sv_client *c, const char *id, sv_CtlInspectResponse *out);
/* Host pids of the task's processes: *pids is malloc'd (free()), *n its length. */
int sv_pids(struct sv_client *c, const char *id, uint32_t **pids, size_t *n);
/* The same with each process's info: an exec's pid carries info.type_url
 * "containerd.runc.v1.ProcessDetails" (sv_ProcessDetails, its exec_id). Free with
 * sv_pb_free(sv_PidsResponse_fields, out). */
int sv_processes(struct sv_client *c, const char *id, sv_PidsResponse *out);
/* Run a stopped task again on its bundle (a new worker, as its restart policy would); returns
 * once the new run has started. Its policy, if any, starts over (restart_count 0). -EBUSY
 * unless the task is stopped. */
int sv_restart(struct sv_client *c, const char *id);
/* out may be NULL; else free with sv_pb_free(sv_DeleteResponse_fields, out). */
int sv_delete(struct sv_client *c, const char *id, bool force, sv_DeleteResponse *out);

/* Execs: more processes in a running task, each named by an exec id (checked like an id,
 * unique in the task). sv_exec starts one: req->id and req->exec_id must be valid (-EINVAL,
 * nothing sent); *pid (may be NULL) is its host pid. Without detach its stdio are the FIFOs
 * req names; then sv_wait_exec_send/sv_wait_recv wait for it, sv_signal signals it and
 * sv_delete_exec removes it once it has exited (out as sv_delete's). With detach it has no
 * stdio and the daemon removes it when it exits. */
int sv_exec(struct sv_client *c, const sv_CtlExecRequest *req, uint32_t *pid);
int sv_delete_exec(struct sv_client *c, const char *id, const char *exec_id,
		   sv_DeleteResponse *out);
/* Terminals. sv_resize_pty sets the window size of a process's pty (exec_id NULL or "" =
 * the task's init; -EBUSY when it has none). sv_process answers the worker's own view of
 * one process: its stdio paths as given at its start (stdin, stdout, stderr), terminal,
 * pid and status; free out with sv_pb_free(sv_StateResponse_fields, out). */
int sv_resize_pty(struct sv_client *c, const char *id, const char *exec_id, uint32_t width,
		  uint32_t height);
int sv_process(struct sv_client *c, const char *id, const char *exec_id, sv_StateResponse *out);
/* Tasks of the client's namespace (each with its labels, "K=V"): free with sv_pb_free(sv_CtlListResponse_fields, out). */
int sv_list(struct sv_client *c, sv_CtlListResponse *out);
/* Free with sv_pb_free(sv_CtlVersionResponse_fields, out). */
int sv_version(struct sv_client *c, sv_CtlVersionResponse *out);
/* Freeze and thaw the task's cgroup. */
int sv_pause(struct sv_client *c, const char *id);
int sv_resume(struct sv_client *c, const char *id);
/* The task's cgroup metrics: out->stats is an Any whose type_url says how to decode its
 * value: "io.containerd.cgroups.v1.Metrics" as sv_Cg1Metrics, "io.containerd.cgroups.v2.Metrics"
 * as sv_Cg2Metrics (wire/metrics.proto). Free with sv_pb_free(sv_StatsResponse_fields, out). */
int sv_stats(struct sv_client *c, const char *id, sv_StatsResponse *out);
/* Change a task's cgroup limits while it runs: memory (bytes), pids, cpus_milli (1/1000 CPU);
 * a field left 0 keeps that limit as it is. req->id is checked like sv_create's. */
int sv_update(struct sv_client *c, const sv_CtlUpdateRequest *req);

/* Events. After sv_subscribe the connection carries only events: use another client for
 * calls. sv_next_event waits at most timeout_ms (-1 = forever): 0 and an envelope (free
 * with sv_pb_free(sv_Envelope_fields, env)), -ETIMEDOUT, -ECONNRESET when the daemon
 * closed the stream, or an error the daemon answered with. */
int sv_subscribe(struct sv_client *c);
int sv_next_event(struct sv_client *c, sv_Envelope *env, int timeout_ms);

/* An envelope's event, decoded by its type_url (containerd.events.<Name>). */
enum sv_event_kind {
	SV_EVENT_UNKNOWN = 0, SV_EVENT_CREATE, SV_EVENT_START, SV_EVENT_EXIT, SV_EVENT_DELETE,
	SV_EVENT_OOM, SV_EVENT_EXEC_ADDED, SV_EVENT_EXEC_STARTED, SV_EVENT_PAUSED,
	SV_EVENT_RESUMED,
};
/* Which optional fields an event carries (its message type defines them). */
#define SV_EVF_PID          0x01u
#define SV_EVF_EXIT_STATUS  0x02u
#define SV_EVF_EXITED_AT    0x04u
#define SV_EVF_BUNDLE       0x08u
#define SV_EVF_EXEC_ID      0x10u   /* set only when the event names an exec (non-init) */

struct sv_event {
	enum sv_event_kind kind;
	const char *name;               /* "TaskExit", ...; the type_url's last part if unknown */
	unsigned fields;                /* SV_EVF_* */
	char container_id[SV_ID_SZ];
	char exec_id[SV_ID_SZ];
	uint32_t pid;
	uint32_t exit_status;
	sv_Timestamp exited_at;
	char bundle[4096];
};
/* -EBADMSG when the event's bytes do not decode as its type; an unknown type_url is
 * SV_EVENT_UNKNOWN with only `name` set, and returns 0. */
int sv_event_decode(const sv_Envelope *env, struct sv_event *ev);
/* The name of an sv_TaskStatus: "created", "running", "stopped", "paused", "pausing", "unknown". */
const char *sv_status_name(uint32_t status);
/* Map a ttrpc status code to the negative errno described above (SV_OK -> 0). */
int sv_errno_from_code(int code);

#endif
