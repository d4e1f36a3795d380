/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/engine.h: the unprivileged engine: control socket, task table, worker links,
 * event fan-out. One struct engine, one epoll loop (engine.c). */
#ifndef SV_SUP_ENGINE_H
#define SV_SUP_ENGINE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/epoll.h>
#include "config.h"
#include "common/clock.h"
#include "common/dlist.h"
#include "common/htab.h"
#include "common/ids.h"
#include "common/ratelimit.h"
#include "common/restart_policy.h"
#include "common/timerheap.h"
#include "control.pb.h"
#include "monitor.pb.h"
#include "task.pb.h"
#include "ttrpc.pb.h"
#include "task_table.h"
#include "wire/fdchan.h"
#include "wire/ttrpc.h"

struct task;

/* Something waiting for an answer on a client connection: (connection serial, stream). */
struct reply_to {
	uint64_t conn;          /* 0 = nobody */
	uint32_t stream;
};

/* No one to answer: internal calls. */
static const struct reply_to nobody;

enum conn_kind { CONN_CLIENT, CONN_WORKER };

/* What an epoll registration points at: a field of the object it belongs to (a conn) or
 * one of the engine's own. Registered once, never rebuilt per round:
 * a round costs what is ready, not what is open. */
enum ev_kind { EV_SIG = 1, EV_MON, EV_CTL, EV_CONN };

/* What an armed timer (e->timers) belongs to: a call's deadline, a task's restart backoff. */
enum tm_kind { TM_CALL = 1, TM_RESTART, TM_PROGRESS };

/* A task found alive at start-up, on its way back (recovery.c). */
enum ra_state { RA_NONE, RA_QUEUED, RA_SENT };

/* Our outstanding call on a worker link. */
enum wcall_op { W_CREATE, W_START, W_KILL, W_PIDS, W_DELETE, W_SHUTDOWN, W_CONNECT, W_STATE, W_WAIT,
		 W_PAUSE, W_RESUME, W_STATS, W_UPDATE, W_EXEC, W_EXEC_START, W_EXEC_WAIT,
		 W_EXEC_DELETE, W_RESIZE_PTY, W_PROCESS };
struct wcall {
	uint32_t stream;
	enum wcall_op op;
	struct reply_to rt;
	char exec_id[SV_ID_SZ];       /* W_EXEC: the process that Start then starts */
	bool detach;            /* W_EXEC: removed by us once it exits */
	struct sv_timer tm;     /* its deadline (TM_CALL), armed while it has one */
	struct conn *link;      /* the link it was sent on */
	struct wcall *next;
};

struct conn {
	enum ev_kind ev;        /* EV_CONN: the epoll tag */
	uint32_t ev_mask;       /* the events registered for fd */
	uint64_t serial;
	struct sv_hnode by_serial;      /* in e->conn_index */
	size_t slot;            /* its place in e->conns */
	/* on e->dirty: output queued, closing, or events to set: conns_flush looks at these only */
	struct sv_dlink dirty_link;
	bool dirty;
	int fd;
	enum conn_kind kind;
	struct ttrpc_reader rd;
	struct sv_outq out;
	bool closing;           /* close once the queue is flushed */
	/* clients */
	bool subscriber;        /* on e->subs */
	struct sv_dlink sub_link;
	uint32_t sub_stream;
	struct peer *peer;      /* its uid's connection count (clients.c) */
	unsigned inflight;      /* requests not answered yet (Subscribe: none, it streams) */
	int64_t active_ms;      /* on the idle list since (its last request, reply or byte) */
	struct sv_dlink idle_link;     /* on e->idle while on_idle */
	bool on_idle;           /* nothing in flight, not subscribed, or closing: closable */
	size_t held;            /* its reader's bytes, counted in e->partial_bytes */
	/* the ns/id of a Create this client was refused because the id is in use: a Start of
	 * that id sent right behind it (`run`'s pipeline) is refused too, never carried out on
	 * the task that already had the id. Any other request clears it. */
	char refused_ns[SV_ID_SZ], refused_id[SV_ID_SZ];
	/* workers */
	struct task *task;
	uint32_t next_stream;
	struct wcall *calls;
};


struct waiter {
	struct reply_to rt;
	struct waiter *next;
};

struct task {
	char ns[SV_ID_SZ], id[SV_ID_SZ];
	struct sv_hnode by_name;        /* in e->task_index (ns, id) */
	struct sv_hnode by_seq;         /* in e->seq_index while mon_seq != 0 */
	enum ra_state reattach;         /* queued for its Connect, or Connect and State sent */
	struct sv_dlink ra_link;        /* on e->ra_queue while RA_QUEUED */
	enum task_state st;     /* the lifecycle: task_table.h; changed by its actions only */
	uint32_t pid, worker_pid;
	bool paused;            /* frozen by a Pause the worker answered (or State said so) */
	bool adopted;           /* re-attached after a restart: a link without reports, events
				 * synthesized from replies */
	uint32_t exit_status;
	sv_Timestamp exited_at;         /* zero until the init's exit is known */
	char *bundle;
	struct conn *link;      /* our ttrpc connection to the worker; a worker we spawned
				 * also sends its reports on it */
	uint32_t mon_seq;       /* outstanding monitor request */
	/* who is owed an answer: each answered by the action that ends its wait (restart_rt:
	 * a client's Restart, once the new run has started) */
	struct reply_to create_rt, start_rt, delete_rt, restart_rt;
	struct waiter *waiters;
	int fail_code;          /* a failed create's answer (states failed, rollback, ...) */
	char *fail_msg;
	sv_CtlCreateRequest *create_req;  /* kept until the worker's Create is sent */
	sv_DeleteResponse del;  /* result of Delete, returned once the bundle is gone */
	struct exec_note *detached;     /* detached execs: deleted once their exit is seen */
	/* the restart policy (kept in the bundle by the monitor): its count, whether a
	 * client ended it, and run --rm -d's auto_remove; the backoff before the next run, when this run started, and the
	 * deadline of state "waiting to restart" */
	struct sv_restart restart;
	int64_t backoff_ms, run_started_ms, restart_due_ms;
	struct sv_timer restart_tm;     /* TM_RESTART at restart_due_ms, armed in TS_BACKOFF */
	pb_bytes_array_t *summary;      /* encoded TaskSummary (spec_summary.c), or NULL */
	struct task *prev, *next;       /* e->tasks, newest first */
};

struct exec_note {
	char exec_id[SV_ID_SZ];
	struct exec_note *next;
};

struct engine {
	struct sv_config *cfg;  /* the live settings change by the monitor's MonSettings */
	char *seccomp;          /* linux.seccomp of the configs it generates (spec_seccomp.c) */
	struct spec_seccomp_sum { char action[40]; uint32_t rules; } seccomp_sum;  /* its figures */
	int ctl_fd;             /* listening control socket */
	int mon_fd;             /* SEQPACKET to the monitor */
	struct fdchan_q mon_q;  /* requests its socket did not take yet, in order */
	uint32_t mon_ev_mask;
	int sig_fd;
	int ready_fd;
	int ep;                 /* epoll */
	enum ev_kind ev_sig, ev_mon, ev_ctl;
	struct epoll_event *batch;      /* the round being handled, until it is done */
	int nbatch;
	struct conn **conns;
	size_t nconns, conns_cap;
	/* The fd budget (RLIMIT_NOFILE, raised to its hard limit at start): every task holds one
	 * fd here (our link to its worker, which carries its reports too), every client one. Creates past
	 * max_tasks and clients past max_clients are refused, so that a reply from the monitor
	 * always has room for its fd. spare_fd is held back for accept() to refuse with. */
	size_t ntasks, max_tasks;
	size_t nclients, max_clients;
	int spare_fd;
	/* clients refused by allow_uids/allow_gids: logged at most REFUSED_LOG_BURST times per
	 * window, the others counted, so that a hostile local user cannot flood the log */
	struct sv_rate warn_rate;       /* client_warn's lines */
	unsigned refused_quiet;         /* ... over it, not logged yet */
	/* fair service (clients.c): connections per uid, root's reserve, the idle list (oldest
	 * first: a round looks at its head only), and the partial request bytes held */
	struct peer *peers[64];
	size_t nonroot_clients, peer_max, root_reserve;
	struct sv_dlist idle;
	size_t partial_bytes;
	uint64_t next_serial;
	/* Every lookup by key and every deadline costs O(1) or O(log n), never a walk of all
	 * tasks or connections: a loop round costs what is ready, not what is open. */
	struct task *tasks;
	struct sv_htab task_index;      /* tasks by (ns, id): SipHash under hash_key */
	struct sv_htab seq_index;       /* tasks by the seq of their outstanding monitor request */
	struct sv_htab conn_index;      /* connections by serial */
	uint8_t hash_key[16];           /* from getrandom at start: ids are the clients' choice */
	struct sv_timerheap timers;     /* call deadlines and restart backoffs */
	struct sv_dlist dirty;          /* connections conns_flush must look at */
	struct sv_dlist subs;           /* subscribed clients */
	/* re-attach after a restart (recovery.c): the live tasks found wait on the queue; at
	 * most SV_REATTACH_INFLIGHT have their Connect and State out at once, so that each
	 * worker answers within its own deadline; progress is logged once a second */
	struct sv_dlist ra_queue;
	size_t ra_inflight, ra_found, ra_done, ra_late;
	int64_t ra_started_ms, scan_done_ms;
	struct sv_timer ra_progress;
	bool ra_reported;               /* the closing line was logged */
	uint32_t next_mon_seq;
	int64_t recovery_deadline_ms;   /* readiness waits for re-attach until then */
	bool scan_pending;              /* the monitor's recovery scan is not over yet */
	bool serving;                   /* clients accepted: the tasks found are re-attached */
	bool stopping;
};

int engine_run(struct sv_config *cfg, int ctl_fd, int mon_fd, int ready_fd);
/* The monitor's settings after a reload (checked by engine_replies.c's table): applied to
 * what comes next (connections, creates, log lines); tasks and clients keep running. */
void engine_settings(struct engine *e, const sv_MonSettings *s);

/* engine_start.c. The monitor's side: fork the engine as cfg->engine_uid/gid, with ctl_fd,
 * mon_fd and cfg->ready_fd on the fixed fds of wire/limits.h and log_fd (the monitor's log
 * relay; -1: stderr kept) on 2, exec'd as shimvisord SV_ENGINE_ARG; its settings are cfg
 * with health. Its pid, or -errno. */
pid_t engine_spawn(const struct sv_config *cfg, const struct sv_engine_health *health, int ctl_fd,
		   int mon_fd, int log_fd);
/* The exec'd engine's main: its settings from the monitor, checks, then engine_run. */
int engine_main(void);
#define SV_ENGINE_ARG "--engine"
/* Set max_tasks and max_clients from an fd limit. */
void engine_fd_budget(struct engine *e, unsigned long nofile);

/* engine.c */
int ev_watch(struct engine *e, int fd, uint32_t events, enum ev_kind *tag);
void ev_forget(struct engine *e, int fd, enum ev_kind *tag);
struct conn *conn_new(struct engine *e, int fd, enum conn_kind kind);
void conn_close(struct engine *e, struct conn *c);
/* Read and handle every whole frame c has sent, until it would block or ends. */
void conn_input(struct engine *e, struct conn *c);
struct conn *conn_by_serial(struct engine *e, uint64_t serial);
/* c has output queued, is closing, or wants its events set again: the next conns_flush
 * (before the loop waits) looks at it. */
void conn_dirty(struct engine *e, struct conn *c);
/* A client's subscription begins or ends (e->subs). */
void conn_subscribe(struct engine *e, struct conn *c, bool on);
void reply(struct engine *e, struct reply_to rt, int code, const char *msg,
	   const pb_msgdesc_t *fields, const void *payload);
/* Send rq to the monitor, or queue it when its socket is full (sent in order as it drains:
 * a burst of hundreds of dead workers never loses a cleanup). 0 or -errno (encoding). */
int mon_send(struct engine *e, struct task *t, sv_MonRequest *rq);

/* clients.c: fair service and bounded memory per client */
/* Whether a client of peer_n connections (root or not) may have one more, with nonroot_n
 * non-root clients of max_clients open: a non-root uid stops at peer_max, all of them at
 * max_clients - root_reserve. Pure. */
bool client_admit(bool root, size_t peer_n, size_t nonroot_n, size_t max_clients,
		  size_t peer_max, size_t root_reserve);
/* The caps of the fd budget and the config: root's reserve, and one uid's share (at most
 * half of what is left, so that a second uid always has room). */
void client_caps(struct engine *e);
/* One RESOURCE_EXHAUSTED response with msg on stream 1 (the first a client uses), into
 * the empty socket buffer, so that the client can say why; then fd is closed. */
void client_refuse(int fd, const char *msg);
/* Take fd, a client of uid: served, or refused with the reason. */
void client_accept(struct engine *e, int fd, uid_t uid);
void client_gone(struct engine *e, struct conn *c);
/* Its state changed (activity: a request, a reply, bytes read): on or off the idle list. */
void client_sync(struct engine *e, struct conn *c, bool activity);
/* One of c's requests was answered (reply(), or a worker's answer relayed): every answer to
 * a client goes through here, so that inflight counts what is left. */
void client_answered(struct engine *e, struct conn *c);
/* Close who was idle for client_idle_ms; *next: the next such deadline. */
void clients_idle(struct engine *e, int64_t now, int64_t *next);
/* After c read: count its reader's bytes; over client_partial_max, close the largest
 * holders until under. */
void clients_partial(struct engine *e, struct conn *c);
/* A subscriber over event_queue_max unread events: its queue dropped, a final frame
 * saying how many were lost, closed. */
void client_cut_subscriber(struct engine *e, struct conn *c);
/* A warning a client caused: at most a few per window, the others counted. */
void client_warn(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* tasks.c: the task list and the actions of the lifecycle table (task_table.h) */
/* What an event carries (the fields its actions read). */
struct task_ev {
	int code;               /* a worker's answer: an SV_ code; the monitor's: an errno */
	const char *msg;
	uint32_t pid;
	struct reply_to rt;     /* the client the event's answer is for */
	const void *body;       /* sv_MonSpawned, sv_MonCleaned, sv_DeleteResponse,
				 * sv_ConnectResponse or sv_StateResponse */
	int link_fd;            /* spawned, found: the link (taken) */
	uint32_t exit_status;   /* exited */
	const sv_Timestamp *exited_at;
	const sv_Envelope *env; /* the worker's event, relayed as it came */
};
struct task *task_find(struct engine *e, const char *ns, const char *id);
struct task *task_new(struct engine *e, const char *ns, const char *id);
/* Memory only: nothing may be owed to anyone (the actions answer before). */
void task_free(struct engine *e, struct task *t);
/* Run the action of (t->st, ev). */
void task_fire(struct engine *e, struct task *t, enum task_event ev, const struct task_ev *a);
/* The one way a task and its worker link part. */
void task_unlink(struct engine *e, struct task *t);
/* The seq of t's outstanding monitor request (0: none), indexed for task_by_seq. */
void task_set_seq(struct engine *e, struct task *t, uint32_t seq);
struct task *task_by_seq(struct engine *e, uint32_t seq);
/* Answer rt with why t's state refuses rq. */
void task_refuse(struct engine *e, struct task *t, enum task_req rq, struct reply_to rt);
static inline bool task_exit_known(const struct task *t)
{
	return t->exited_at.seconds || t->exited_at.nanos;
}
/* One Report its worker sent on the link (worker_link.c). */
void task_report(struct engine *e, struct task *t, const uint8_t *body, size_t len);
/* The restart policy's deadlines (state "waiting to restart"): fired when due, else *next. */
/* A timer of kind TM_RESTART is due. */
void task_restart_due(struct engine *e, struct sv_timer *tm);

/* t's restart policy, from its create or its bundle's record. */
void task_set_restart(struct engine *e, struct task *t, const struct sv_restart *r);
/* Its policy as the monitor's message. */
void task_restart_msg(const struct task *t, sv_MonRestart *out);
/* The monitor's answers (engine_replies.c). spawn answered: err 0 with sp and link_fd (-1
 * when cut for want of fds: the create then fails once the worker's end is seen; taken), or
 * err > 0 with reason (may be ""; no fds) */
void task_spawned(struct engine *e, struct task *t, int err, const char *reason,
		  const sv_MonSpawned *sp, int link_fd);
void task_committed(struct engine *e, struct task *t, int err);      /* 0 or errno */
void task_cleaned(struct engine *e, struct task *t, const sv_MonCleaned *cl, int err);
void task_worker_gone(struct engine *e, struct task *t);             /* its worker reaped */
/* The worker's Delete answered (worker_link.c): code SV_OK with dr, or the failure. */
void task_deleted(struct engine *e, struct task *t, int code, const char *msg,
		  const sv_DeleteResponse *dr);
uint32_t task_status(const struct task *t);
const char *task_state_name(const struct task *t);

/* events.c */
void publish(struct engine *e, const char *ns, const char *topic, const char *type,
	     const pb_msgdesc_t *fields, const void *msg);
void publish_envelope(struct engine *e, const sv_Envelope *env);

/* worker_link.c: our ttrpc client side of each worker */
/* Our link to t's worker over fd, a socket the monitor connected (taken, also on failure). */
int link_open(struct engine *e, struct task *t, int fd);
/* Queue a call on t's link: the call (for fields only its op uses), or NULL with rt
 * already answered. */
struct wcall *link_call(struct engine *e, struct task *t, enum wcall_op op, const char *method,
			const pb_msgdesc_t *fields, const void *req, struct reply_to rt, int timeout_ms);
void link_frame(struct engine *e, struct conn *c);
void link_closed(struct engine *e, struct conn *c);
/* A timer of kind TM_CALL is due: the call fails (deadline exceeded), or, for a re-attach's
 * Connect or State, is logged and left waiting. */
void link_call_due(struct engine *e, struct sv_timer *tm);

/* engine_seccomp.c: the engine's allow-list of system calls, loaded once its set-up is
 * done (needs no_new_privs). 0 or -errno. */
int engine_confine(void);

/* control.c: the shimvisor.v1.Control methods */
void control_request(struct engine *e, struct conn *c);

/* spec.c: config.json for a create request */
/* cgroups_path: linux.cgroupsPath for a config that names none ("" or NULL: none; then
 * rq's limits are refused). seccomp: the profile a generated config gets as linux.seccomp,
 * compact JSON from spec_seccomp_profile (NULL: none); a --bundle config is left as it is. */
int spec_build(const sv_CtlCreateRequest *rq, const char *cgroups_path, const char *seccomp,
	       char **json, size_t *len, char *err, size_t errsz);
/* The same; a task given no cgroup (no cgroups_path, no limit, none in its config) keeps
 * lazy_path for later, as the annotation io.shimvisor.cgroup.lazy. */
int spec_build_cg(const sv_CtlCreateRequest *rq, const char *cgroups_path, const char *lazy_path,
		  const char *seccomp, char **json, size_t *len, char *err, size_t errsz);
/* The same, with the summary of the config made (spec_summary; NULL ssum: seccomp's figures
 * unknown) into *summary (malloc'd; NULL if it could not be made: the task has none). */
int spec_build_summary(const sv_CtlCreateRequest *rq, const char *cgroups_path,
		       const char *lazy_path, const char *seccomp,
		       const struct spec_seccomp_sum *ssum, char **json, size_t *len,
		       pb_bytes_array_t **summary, char *err, size_t errsz);
/* spec_summary.c: what `inspect` shows of a task, from its final config (a cJSON tree):
 * an encoded TaskSummary (wire/control.proto) of at most SV_SUMMARY_MAX bytes (past it, the
 * lists are dropped and `truncated` set), malloc'd into *out. dflt_seccomp: the daemon's
 * default profile as spec.c splices it in (raw text), with its figures dflt_sum; a config
 * holding it says "default". 0 or -errno. */
struct cJSON;
int spec_summary(const struct cJSON *config, const char *dflt_seccomp,
		 const struct spec_seccomp_sum *dflt_sum, pb_bytes_array_t **out);
/* Every bounding capability of s by name (those of capability_mask first, by number), in a
 * new array (free() it alone: its strings are s's or static). 0 or -ENOMEM. */
int spec_summary_cap_names(const sv_TaskSummary *s, char ***out, pb_size_t *n);
/* A seccomp profile's default action and rule count, from its tree or its JSON text. */
int spec_seccomp_sum(const struct cJSON *profile, struct spec_seccomp_sum *out);
int spec_seccomp_sum_text(const char *json, struct spec_seccomp_sum *out);
/* spec_seccomp.c: the default tasks' seccomp profile as compact JSON (malloc'd), checked: the
 * file at path, or the one built in from etc/seccomp-default.json when path is "" or NULL.
 * 0, or -errno with err. */
int spec_seccomp_profile(const char *path, char **out, char *err, size_t errsz);
/* A client's profile (json, len bytes, at most 48 KiB) checked the same way, as compact
 * JSON (malloc'd). 0, or -errno with err naming it. */
int spec_seccomp_parse(const char *json, size_t len, const char *name, char **out, char *err,
		       size_t errsz);
/* An exec's OCI Process JSON (malloc'd); -EINVAL with err on a bad env entry or cwd. */
int spec_process(const sv_CtlExecRequest *rq, char **json, size_t *len, char *err, size_t errsz);
/* An Update's limits as OCI LinuxResources JSON (malloc'd). -EINVAL when it sets none. */
int spec_resources(const sv_CtlUpdateRequest *rq, char **json, size_t *len);
/* CPU limits are a quota over this period (the kernel's default). */
#define SV_CPU_PERIOD_US 100000

/* recovery.c */
void recovery_scan(struct engine *e);
/* one bundle the scan found; link_fd: connected socket (taken) or -1 */
void recovery_found(struct engine *e, const char *ns, const char *id, const sv_MonFound *f,
		    int link_fd);
/* Send the Connect and State of queued tasks while fewer than SV_REATTACH_INFLIGHT are out. */
void recovery_pump(struct engine *e);
/* t's re-attach is over (State answered, late, or its link gone): its place goes to the next. */
void recovery_done(struct engine *e, struct task *t, bool late);
/* Every task found is re-attached or late, and the scan is over. */
bool recovery_over(const struct engine *e);
/* Once it is: the closing line (how many, how long, how many late). */
void recovery_check_over(struct engine *e);
/* TM_PROGRESS: one line a second while re-attach goes on. */
void recovery_progress(struct engine *e);
#define SV_REATTACH_INFLIGHT 64
#define SV_REATTACH_SERVE_MS 100

/* engine_replies.c: the monitor's replies, each checked against one table {type, request
 * answered, fds, handler}, the mirror of the monitor's request table */
#define ENGINE_REPLY_MAX_FDS 2
/* Take the next reply: 1 with *rep (to sv_pb_free), its row, and fds[] (exactly the row's
 * count, -1 for one the engine had no room for); 0 none yet; -ECONNRESET at EOF; -EPROTO for
 * a reply outside the table (its fds closed, logged); other -errno. */
int engine_reply_take(int fd, sv_MonReply *rep, int fds[ENGINE_REPLY_MAX_FDS], size_t *row);
/* Every reply waiting, each to its handler. 0, or -errno as engine_reply_take (the engine
 * then ends: the monitor restarts it). */
int engine_monitor_input(struct engine *e);
size_t engine_replies_count(void);
/* Row i's reply type (0 if it has no handler) and fd count. */
pb_size_t engine_reply_type(size_t i, int *nfds);
/* The table as markdown (reply, request answered, fds, handler), for DESIGN.md. */
void engine_replies_print(FILE *out);

#endif
