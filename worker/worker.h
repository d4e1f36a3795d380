/* SPDX-License-Identifier: Apache-2.0 */
/* worker/worker.h: shimvisor-worker's one context struct and the interfaces between its files. */
#ifndef SV_WORKER_H
#define SV_WORKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include <pb.h>
#include "common/clock.h"
#include "common/ids.h"
#include "wire/limits.h"
#include "wire/ttrpc.h"

#define W_MAX_WAITERS 1024          /* deferred replies (Wait) in all */
#define W_OUTQ_HIGH (1u << 20)      /* stop reading a client whose replies pile up */
#define W_EVQ_MAX 4096              /* events queued for an absent Forward peer (memory bound) */
#define W_FWD_TIMEOUT_MS 5000       /* one Forward attempt */
#define W_EXIT_GRACE_MS 2000        /* flush budget when exiting */
#define W_LOGGER_READY_MS 10000     /* a binary:// logger's time to say it is ready */
#define W_KILL_WAIT_MS 2000         /* a SIGKILLed init's time to be reaped before it is
				     * taken for dead (Delete of a created task, failed Start) */

/* Command line (Go flag style). */
struct wopts {
	const char *ns, *id, *bundle, *address, *publish_binary, *socket;
	bool debug;
	const char *action;         /* NULL = serve */
};
int wopts_parse(struct wopts *o, int argc, char **argv);

/* One client connection. */
struct wconn {
	struct wconn *next;
	uint64_t cid;               /* never reused; deferred replies name it */
	int fd;
	bool closing;               /* flush then close; read nothing more */
	struct ttrpc_reader rd;
	struct sv_outq out;
};

/* A reply owed later (Create, Start, Wait, Update). */
struct pending {
	uint64_t cid;               /* 0 = none */
	uint32_t stream;
};

/* One direction of a process's stdio, copied by the worker: src -> dst. Output goes
 * through a pump so that it never blocks when the reader goes away (a FIFO without a
 * reader takes EPIPE: the bytes are dropped until a reader comes back). */
struct logsink;

struct pump {
	int src, dst;               /* -1 = closed; the console fd is borrowed, not owned */
	struct logsink *sink;       /* svlog://: writes go to the shared, capped log (dst is -1) */
	uint8_t *buf;               /* read from src, not yet taken by dst */
	size_t len, off;
	bool eof;                   /* src ended (or CloseIO): close dst once buf is drained */
	bool own_src, own_dst;      /* false for the borrowed console */
	bool end_when_empty;        /* CloseIO: src ends once it has nothing more to read now */
};

/* A process's stdio: in (FIFO -> stdin pipe or console), out and err (pipe or console -> FIFO). */
struct pio {
	struct pump in, out, err;
	int console;                /* pty master (terminal mode), or -1 */
	pid_t logger;               /* a binary:// logging process, or 0 */
	int logger_ready;           /* readable once it is ready (its fd 5), or -1 */
};

/* proc_table.c: a process's lifecycle, states x events (proc_table_markdown prints it). */
enum pstate {
	PS_OPENING,                 /* a binary:// logger starts; the init is not spawned yet */
	PS_CREATING,                /* the task's init spawned, its READY awaited (Create owed) */
	PS_CREATE_DIED,             /* that init reaped before READY: its sync EOF fails Create */
	PS_CREATED,                 /* the init held before START; an exec not started */
	PS_PREPARING,               /* an exec's init spawned by Start, its READY awaited */
	PS_STARTING,                /* START sent, the exec of the program awaited (Start owed) */
	PS_EXITED_PREPARING,        /* reaped while PREPARING: told after Start's answer */
	PS_EXITED_STARTING,         /* reaped while STARTING: told after Start's answer */
	PS_RUNNING,
	PS_KILLING,                 /* SIGKILLed, its reap awaited (a Delete or Start owed) */
	PS_STOPPED,
	PS_N
};
enum pevent {
	PE_LOGGER_READY,            /* the binary:// logger's fd 5 ended (or it failed: err) */
	PE_SYNC_READY,              /* INIT_READY, with the pid known */
	PE_SYNC_EOF,                /* the sync socket ended: exec'd, or the init died */
	PE_SYNC_ERROR,              /* INIT_ERROR, or the init broke the protocol (why) */
	PE_REAPED,                  /* waitpid gave its pid (wstatus) */
	PE_DEADLINE,                /* its deadline_ms passed */
	PE_START,                   /* a Start request (k) */
	PE_KILL,                    /* a Kill request (k, sig, all) */
	PE_DELETE,                  /* a Delete request (k) */
	PE_N
};
struct call;
struct pev {
	enum pevent type;
	int err;                    /* PE_LOGGER_READY: 0 or -errno */
	int wstatus;                /* PE_REAPED */
	const char *why;            /* PE_SYNC_ERROR, PE_SYNC_EOF (NULL: the default) */
	struct call *k;             /* requests */
	int sig;                    /* PE_KILL */
	bool all;
};

/* The task's init or one exec. Its lifecycle is state, changed only by proc_event. */
struct proc {
	struct proc *next;          /* the task's execs */
	char exec_id[SV_ID_SZ];      /* "" = the task's init */
	char *in, *out, *err;       /* stdio as Create/Exec named it */
	bool terminal;
	char *spec;                 /* an exec's Process JSON until Start */
	size_t spec_len;
	enum pstate state;
	pid_t stage1;               /* the forked shimvisor-init */
	bool userns_mapped;         /* a task init: its USERNS maps were written */
	pid_t pid;                  /* the process (from INIT_PID) */
	int sync_fd;                /* -1 once closed */
	int hold[4];                /* while OPENING: config.json (init) or spec, and stdio */
	int64_t deadline_ms;        /* OPENING, KILLING: when PE_DEADLINE comes; else 0 */
	char *start_err;            /* KILLING after a failed Start: its answer */
	struct pending create_rep, start_rep, delete_rep;
	int exit_status;
	struct timespec exited_at;
	struct pending *waiters;
	size_t nwaiters, capwaiters;
	struct pio io;
};

struct wcgroup;

struct wtask {
	char id[SV_ID_SZ];
	char *bundle;
	int rootfs_mounted;         /* how many of Create's rootfs mounts are on bundle/rootfs */
	int bundle_fd;
	unsigned long long starttime;
	ino_t pidns;                /* init's pid ns inode, 0 = unknown */
	bool own_pidns;
	bool paused;
	struct proc init;
	struct proc *execs;
	size_t nexecs;
	struct wcgroup *cg;         /* the task's own cgroups, or NULL */
	int oom_fd;                 /* readable on an OOM kill, or -1 */
	pid_t update_pid;           /* a running `shimvisor-init --update`, or 0 */
	int update_fd;              /* its sync socket */
	struct pending update_rep;
	bool update_lazy;           /* it makes the task's cgroup and moves the task in */
	bool update_pause;          /* a Pause waits for it: freeze once it is done */
	bool cg_partial;            /* a lazy move failed half-way: the next one goes on */
	uint64_t cap_bounding;      /* the task's bounding set, from its init's READY */
	uint32_t io_uid, io_gid;    /* runc options IoUid/IoGid: owners of its stdio pipes */
	char keyring[SV_KEYRING_NAME_MAX]; /* its session keyring, "" with runc's NoNewKeyring */
	int ncold, cold[4];         /* while a warm init sets up: config.json and stdio, kept
				     * for a cold init should it answer INIT_COLD */
};

/* Event sink: reports on the engine's link (shimvisord) or Forward to containerd. */
struct evq_item {
	struct evq_item *next;
	uint8_t *buf;               /* encoded ttrpc Request body (Forward) */
	size_t len;
	int tries;
};

struct events {
	uint64_t seq;
	bool report_mode;           /* started with the engine's link on SV_FD_LINK */
	uint32_t fwd_next;          /* next client stream id (odd) */
	/* reports: DATA frames on the link's own queue (wire/limits.h, SV_REPORT_STREAM) */
	uint64_t link_cid;          /* the link's connection; 0 = containerd mode or gone */
	/* Forward */
	char *ttrpc_path;           /* NULL = nowhere to send */
	int fwd_fd;
	bool fwd_connecting;
	uint32_t fwd_stream;        /* in flight, 0 = none */
	struct ttrpc_reader fwd_rd;
	struct sv_outq fwd_out;
	struct evq_item *head, *tail;
	size_t count;
	int64_t fwd_deadline_ms;    /* 0 = none: retry time or reply deadline */
	int backoff_ms;
};

struct worker {
	struct wopts o;
	int listen_fd, sig_fd;
	struct wconn *conns;
	size_t nconns;
	uint64_t next_cid;
	struct wtask *task;          /* NULL: never created, or deleted */
	size_t npending_total;
	struct events ev;
	bool exiting;
	int64_t exit_deadline_ms;
	char self_dir[4096];
	pid_t warm_init_pid;        /* a shimvisor-init exec'd ahead of Create, or 0 */
	int warm_init_fd;           /* its sync socket, or -1 */
	bool confined;              /* confine_self done: serves this task only */
	int init_exe;               /* shimvisor-init pinned read-only (sv_exe_pin), or -1 */
};

/* handover.c: a warm worker's wait for its task (fills o.ns/id/bundle, fds 3 and 4) */
int worker_await_assignment(struct worker *w);
/* Its decoder: one WorkerAssign packet on sock, checked (valid ns and id, an absolute bundle
 * shorter than bsz, exactly two fds): 0 with ns, id, bundle and fds[0..1] filled, else -errno
 * (-EPROTO: not a valid assignment; -ECONNRESET: the monitor went away) with no fd kept. */
int handover_take(int sock, char ns[SV_ID_SZ], char id[SV_ID_SZ], char *bundle, size_t bsz, int fds[2]);

/* loop.c */
int w_serve(struct worker *w);
_Noreturn void w_exit_now(struct worker *w, int code);

/* conn.c */
void wconn_accept(struct worker *w);
/* A connected socket served as a client (accepted, or the engine's link); NULL: closed. */
struct wconn *wconn_add(struct worker *w, int fd);
void wconn_input(struct worker *w, struct wconn *c);
int wconn_output(struct worker *w, struct wconn *c);
void wconn_close(struct worker *w, struct wconn *c);
struct wconn *wconn_find(struct worker *w, uint64_t cid);
/* Queue a reply on a live connection (no-op if it went away). */
void w_reply(struct worker *w, uint64_t cid, uint32_t stream, int code, const char *msg,
	     const pb_msgdesc_t *fields, const void *payload);
void w_reply_pending(struct worker *w, struct pending *p, int code, const char *msg,
		     const pb_msgdesc_t *fields, const void *payload);

/* svc_task.c: the Task service (its methods: svc_task.c, svc_control.c, service.h) */
void wtask_dispatch(struct worker *w, struct wconn *c, uint32_t stream, const char *method,
		   const uint8_t *payload, size_t len);
void wtask_forget_conn(struct worker *w, uint64_t cid);
bool wtask_holds_conn(const struct worker *w, uint64_t cid);

/* proc_table.c: the one way a process's state changes (states, events: see enum pstate). */
void proc_event(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e);
/* A new proc's first state (OPENING: its logger's deadline starts). */
void proc_born(struct proc *p, enum pstate first);
bool proc_reaped(const struct proc *p);             /* its exit is recorded */
uint32_t proc_task_status(const struct wtask *t, const struct proc *p);  /* sv_TaskStatus */
void proc_timers(struct worker *w, int64_t now);    /* PE_DEADLINE to each proc due */
int64_t proc_next_deadline(const struct wtask *t);   /* 0 = none */
void proc_table_markdown(FILE *f);
const char *proc_state_name(enum pstate s);
const char *proc_event_name(enum pevent e);
/* The cell's action name, NULL when the cell is empty (a bug: the unit test walks them). */
const char *proc_cell_name(enum pstate s, enum pevent e);

/* process.c */
int proc_spawn_init(struct worker *w, struct wtask *t, int cfg_fd, const int stdio[3]);
/* An exec's stdio and spec for its Start: the spec memfd into hold[0], the child's stdio
 * into hold[1..3]; its logger may still be starting (io.logger_ready). 0 or -errno. */
int proc_open_exec(struct worker *w, struct wtask *t, struct proc *p);
/* Fork `shimvisor-init --exec` with what proc_open_exec holds (closed). 0 or -errno. */
int proc_spawn_exec(struct worker *w, struct wtask *t, struct proc *p);
void proc_hold_close(struct proc *p);
/* Fork `shimvisor-init --update` with the LinuxResources JSON; reaped into wtask_update_done.
 * lazy: the task has no cgroup yet (or a lazy move failed half-way): the init gives it the one
 * its config.json keeps for later first (no exec spawns meanwhile: -EBUSY). */
int proc_spawn_update(struct worker *w, struct wtask *t, const void *json, size_t len, bool lazy);
/* Exec shimvisor-init --warm now, so that Create only hands it the task. 0 or -errno. */
int proc_warm_init(struct worker *w);
void proc_sync_input(struct worker *w, struct wtask *t, struct proc *p);
int proc_send_start(struct proc *p);
/* A message of type (sv_InitSyncType) alone on p's sync socket. */
int proc_send_sync(struct proc *p, int type);

/* userns_map.c: the lines of a task init's uid_map and gid_map, written to /proc/PID/ from
 * outside its new user namespace; on failure "what: why" in why. 0 or -errno. */
int wuserns_write_maps(pid_t pid, const char *uid_map, const char *gid_map, char *why,
		       size_t whysz);
void proc_init_ready(struct worker *w, struct wtask *t);
void proc_publish_create(struct worker *w, struct wtask *t);
void proc_free(struct worker *w, struct proc *p);
void proc_release_waiters(struct worker *w, struct proc *p);
void wtask_free(struct worker *w, struct wtask *t);
struct proc *wtask_find_exec(struct wtask *t, const char *exec_id);
void wtask_drop_exec(struct worker *w, struct wtask *t, struct proc *p);

/* confine.c: once its task starts (its init's Start, or an exec's before it), the worker
 * keeps only the capabilities its duties need and the task's bounding set (so that execs
 * may hold those), sets no_new_privs and loads a seccomp filter refusing what no worker or
 * task may do. confine_filter writes that filter (at most cap instructions). worker_confine
 * does it once (w->confined). 0 or -errno. */
struct sock_filter;
uint64_t confine_duty_caps(void);
int confine_filter(struct sock_filter *prog, size_t cap, size_t *len);
int confine_self(uint64_t task_bounding);
int worker_confine(struct worker *w, const struct wtask *t);

/* task_cgroup.c: the task's cgroups once its init runs (Pause, Stats, OOM, kill --all). */
void wtask_cgroup_attach(struct worker *w, struct wtask *t);
void wtask_cgroup_release(struct worker *w, struct wtask *t);
void wtask_oom_ready(struct worker *w, struct wtask *t);

/* task_procs.c: the task's pids (its cgroup's, else /proc's: its pid namespace, or the
 * subtrees of its init and execs in the host's); and its Stats from /proc (a Cg1Metrics of
 * CPU time, resident memory and pids, encoded) when it has no cgroup. 0 or -errno. */
int wtask_pids(const struct wtask *t, pid_t **pids, size_t *n);
int wtask_proc_metrics(const struct wtask *t, uint8_t **buf, size_t *len);

/* svc_control.c: the end of a `shimvisor-init --update` (reaped) */
void wtask_update_done(struct worker *w, struct wtask *t, int wstatus);

/* rootfs.c */
struct _sv_Mount;
int rootfs_mount(struct wtask *t, const struct _sv_Mount *mounts, size_t n);
void rootfs_unmount(struct wtask *t);

/* pio.c: open a process's stdio (fds for the child: stdin, stdout, stderr) and pump it. */
void pio_init(struct pio *io);
struct pio_names {
	const char *in, *out, *err;
	bool terminal;
	const char *id, *ns;        /* for a binary:// logger's environment */
};
int pio_open(struct pio *io, const struct pio_names *nm, int fds[3]);
/* pio_binary.c: start a binary:// logger; fds get the process's stdout and stderr. It is
 * exec'd on return; io->logger_ready is readable once it is ready (pio_logger_ready). */
int pio_open_binary(struct pio *io, const char *uri, const char *id, const char *ns, int fds[2]);
/* logger_ready was readable: 0 (ready), or -errno. Closes it either way. */
int pio_logger_ready(struct pio *io);
/* pio_log.c: a capped, rotated log file shared by stdout and stderr (svlog:// names). */
int logsink_open(const char *uri, struct logsink **out);
struct logsink *logsink_get(struct logsink *s);
void logsink_put(struct logsink *s);
void logsink_write(struct logsink *s, const uint8_t *buf, size_t n);
void pio_set_console(struct pio *io, int master);
int pio_poll_fd(struct pump *pp, short *events);    /* fd to poll for this pump, or -1 */
void pio_ready(struct pump *pp);
void pio_close_stdin(struct pio *io);
void pio_drain(struct pio *io);                     /* a last non-blocking flush */
void pio_close(struct pio *io);

/* reap.c */
void reap_children(struct worker *w);
/* Record p's exit (wstatus < 0: already recorded), tell it (exit file, /tasks/exit, Waits). */
void proc_record_exit(struct proc *p, int wstatus);
void proc_exited(struct worker *w, struct wtask *t, struct proc *p, int wstatus);
int proc_starttime(pid_t pid, unsigned long long *st);

/* events.c */
void wev_init(struct worker *w, int link_fd);
void wev_publish(struct worker *w, const char *topic, const char *type,
		const pb_msgdesc_t *fields, const void *msg);
void wev_hello(struct worker *w);
bool wev_idle(const struct worker *w);
int wev_poll_fd(struct worker *w, short *events);   /* forward fd to poll, or -1 */
void wev_fwd_ready(struct worker *w, short revents);
void wev_timer(struct worker *w, int64_t now);

/* shim_actions.c */
int action_start(struct worker *w, int argc, char **argv);
int action_delete(struct worker *w);
int w_socket_path(const struct wopts *o, char *buf, size_t sz);

#endif
