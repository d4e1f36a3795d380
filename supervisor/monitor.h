/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/monitor.h: the root monitor: spawns workers, reaps them, runs a dead worker's
 * cleanup and removes bundles. It serves a fixed table of requests from the engine and
 * parses no client bytes: of what the engine sends it parses only each config.json, against
 * the policy (policy.h), before storing it; DeleteResponse bytes pass through opaque. */
#ifndef SV_SUP_MONITOR_H
#define SV_SUP_MONITOR_H
#include "wire/fdchan.h"
#include <limits.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "common/clock.h"
#include "common/dlist.h"
#include "common/htab.h"
#include "common/ids.h"
#include "common/ratelimit.h"
#include "common/syslog.h"

/* What reached the monitor's log relay from one sender (the engine, or one child). */
struct mon_relay {
	int fd;                   /* the read end (SO_PASSCRED); -1: none */
	struct sv_rate rate;
	unsigned long suppressed; /* lines over the rate, not yet reported */
	pid_t pid;                /* the last sender (kernel-checked), for the report */
};

/* What an epoll registration of the monitor points at (monitor.c's loop). */
enum mon_tag { MT_SIG = 1, MT_ENGINE, MT_ENGINE_LOG, MT_CHILD_LOG, MT_CLEANER_OUT };

struct mon_child {
	pid_t pid;
	size_t slot;              /* its place in m->children */
	struct sv_hnode by_pid;   /* in m->child_index while pid != 0 */
	struct sv_hnode by_name;  /* a worker: in m->worker_index (ns, id) */
	bool indexed_pid, indexed_name;
	uint8_t log_tag, out_tag; /* MT_CHILD_LOG, MT_CLEANER_OUT: epoll's pointers */
	struct sv_dlink cl_link;  /* a cleaner: on m->cleaners */
	enum { CHILD_WORKER, CHILD_CLEANER, CHILD_IDLE } kind;
	char ns[SV_ID_SZ], id[SV_ID_SZ];
	uint32_t seq;             /* cleaner: the request to answer */
	int out_fd;               /* cleaner: its stdout, or -1 at EOF */
	uint8_t *out;             /* cleaner: what it printed (capped) */
	size_t out_len;
	int exited;               /* cleaner: reaped */
	int64_t deadline_ms;      /* cleaner: SIGKILL after this (CLOCK_MONOTONIC); not yet
				   * started (pid 0): the next attempt */
	int backoff_ms;           /* cleaner not started: the wait before the next attempt */
	int orphan;               /* cleaner: asked for by an engine since replaced: no reply */
	int uncommitted;          /* worker: spawned by the current engine, its create not yet
				   * committed (MonCommit); an engine's end clears it */
	struct mon_relay log;     /* its fd 2: its lines, to the monitor's log (monitor_log.c) */
};

/* The daemon's log (monitor_log.c): the monitor writes every line, its own and those its
 * engine and children relay, to syslog, or to its stderr with -F. */
struct mon_log {
	bool foreground;          /* -F: stderr, else syslog */
	struct sv_syslog sys;
	struct mon_relay engine;  /* every engine's fd 2 is the other end, eng_wr */
	int eng_wr;
	struct sv_rate workers;   /* all children's lines together */
	unsigned long workers_suppressed;
	int64_t report_at_ms;     /* when to report suppressed lines; 0: none are */
	size_t nrelays, max_relays;   /* children's relays open; at most the fd limit less
				       * the monitor's own (monitor_log.c) */
	bool relays_full_said;
};

struct sv_reload;

struct monitor {
	const struct sv_config *cfg;   /* changed only by a reload (config_reload.c) */
	struct sv_reload *reload;      /* what SIGHUP rereads; NULL: no reload */
	int engine_fd;            /* SEQPACKET to the engine (non-blocking); -1: none */
	struct fdchan_q out;      /* replies it did not take yet, in order (never dropped) */
	pid_t engine_pid;         /* 0: none, or it was reaped */
	/* the engine's life (monitor_engine.c); times on CLOCK_MONOTONIC */
	int ctl_fd;               /* the listening control socket each engine serves */
	int64_t engine_up_ms;     /* when the running engine was started */
	int64_t engine_end_ms;    /* when the last one was seen to end */
	int64_t restart_at_ms;    /* when to start the next one; 0: not due */
	int backoff_ms;           /* the wait after the next end, unless it ran a minute */
	const char *kill_why;     /* the monitor killed the engine: why */
	int64_t drop_kill_ms;     /* its channel ended: when to kill it if it is still there */
	bool engine_spoke;        /* it sent a request: it did start */
	bool start_failed;        /* the first engine ended before its first request */
	struct sv_engine_health health;   /* for the next engine */
	int sig_fd;
	int state_fd, sock_dir_fd;
	char worker_path[PATH_MAX];
	pid_t idle_pid;           /* a warm worker waiting on idle_fd, or 0 */
	int64_t warm_at_ms;       /* when to exec the next warm worker, 0 = not due */
	int idle_fd;
	/* Each child on its own (pointers stay valid), found by pid or, a worker, by ns/id
	 * (SipHash under hash_key); cleaners also on a list of their own: a loop round looks at
	 * what is ready and at the cleaners, never at every child. */
	struct mon_child **children;
	size_t nchildren, cap;
	struct sv_htab child_index, worker_index;
	uint8_t hash_key[16];
	struct sv_dlist cleaners;
	int ep;                   /* epoll of the loop */
	struct epoll_event *batch;        /* the round being handled */
	int nbatch;
	uint8_t sig_tag, engine_tag, engine_log_tag;
	uint32_t engine_ev;       /* the engine channel's registered events */
	int stopping;
	unsigned req_state;       /* the request table's state: MON_AWAIT_SCAN, MON_SERVING */
	struct mon_log log;
};
enum { MON_AWAIT_SCAN = 1 << 0, MON_SERVING = 1 << 1 };

/* Run the monitor's loop until SIGTERM/SIGINT. An engine that ends (it died, or sent a
 * request outside the table and was killed) is replaced after a backoff; only a first engine
 * that ends before its first request (it cannot start) ends the loop. Returns an exit code:
 * 0 after a stop, 1 when the engine cannot start. */
int monitor_run(struct monitor *m);
/* What monitor_run leaves: its children's records. */
void monitor_free(struct monitor *m);
/* Forget the engine that ended: its unsent replies, the answers its cleanups were owed
 * (the next engine's scan finds what is left), the request table's state. */
void monitor_engine_gone(struct monitor *m);

/* Watch the engine channel just opened (m->engine_fd), once the loop runs. */
void mon_engine_watch(struct monitor *m);

/* monitor_engine.c: the engine's life seen from the monitor. */
/* Start an engine on a new channel (m->engine_fd, m->engine_pid), told m->health and
 * m->cfg->ready_fd. 0 or -errno. */
int mon_engine_start(struct monitor *m);
/* SIGKILL the engine for why (logged as the cause of its end, once it is reaped). */
void mon_engine_kill(struct monitor *m, const char *why);
/* Its channel failed or ended: close it, forget what the engine was owed; the engine is
 * killed if it is not gone within a second. */
void mon_engine_drop(struct monitor *m);
/* The engine was reaped with wstatus: log why it ended, schedule the next one. */
void mon_engine_ended(struct monitor *m, int wstatus);
/* No engine runs: start one when its backoff is over (else lower *next to that time); one
 * whose channel was dropped and that is still there is killed. */
void mon_engine_due(struct monitor *m, int64_t now, int64_t *next);
/* config_reload.c: SIGHUP. Reread the config file, apply its live settings (the engine's
 * by a MonSettings notice), name the others in a warning; a bad file changes nothing. */
void mon_reload(struct monitor *m);
/* monitor_log.c: the log relay and syslog. */
/* The engines' relay and the sink of the monitor's own lines (syslog, or stderr with -F). */
int mon_log_open(struct monitor *m);
/* A new relay: *rd (the monitor's, SO_PASSCRED) and *wr (a child's fd 2), both non-blocking. */
int mon_log_relay_new(int *rd, int *wr);
/* A child's relay, counted against the monitor's fd limit (the monitor keeps one fd per
 * child): -EMFILE past half of it, said once; the child's fd 2 is /dev/null then. */
int mon_log_child_relay(struct monitor *m, int *rd, int *wr);
/* Close the monitor's end of a child's relay (uncounted). */
void mon_log_relay_close(struct monitor *m, int fd);
/* Read a bounded number of lines from a ready relay: the engine's (c NULL) or c's. */
void mon_log_input(struct monitor *m, struct mon_child *c);
/* monitor.c: watch fd for events with tag (its owner's field), or change its events. 0 or
 * -errno. Before its owner goes, mon_forget drops the tag from the round being handled. */
int mon_watch(struct monitor *m, int fd, uint32_t events, uint8_t *tag, bool mod);
void mon_forget(struct monitor *m, const uint8_t *tag);
/* Before c goes: what it sent last, then its relay closed. */
void mon_log_child_gone(struct monitor *m, struct mon_child *c);
/* Report suppressed lines when due; else lower *next to that time. */
void mon_log_due(struct monitor *m, int64_t now, int64_t *next);
/* One relayed datagram: its level ("<N>" in front, clamped to LOG_ERR..LOG_DEBUG; none:
 * LOG_WARNING) and where its text starts. */
int mon_log_level_of(const char *buf, size_t n, size_t *text);

/* Find shimvisor-worker: cfg->worker, else next to our executable, else on PATH. */
int monitor_find_worker(const struct sv_config *cfg, char *out, size_t sz);
/* The shim socket path of ns/id: <state>/.s/<32 hex of sha256("<state>/<ns>/<id>")>. */
int sv_shim_socket_path(const char *state, const char *ns, const char *id, char *out, size_t sz);


/* Inside the monitor (monitor.c, monitor_scan.c). */
#include "monitor.pb.h"
void mon_reply_base(sv_MonReply *rep, uint32_t seq, const char *ns, const char *id);
/* Queue a reply to the engine with fds (dups kept until sent; the caller keeps its own).
 * 0, or -errno when it is lost (logged). */
int mon_send_reply_fds(struct monitor *m, const sv_MonReply *rep, const int *fds, int nfds);
int mon_remove_task(struct monitor *m, const char *ns, const char *id);
/* The worker of ns/id this monitor spawned and has not reaped, or NULL. */
struct mon_child *mon_worker_of(struct monitor *m, const char *ns, const char *id);
/* MonScan: walk <state>, answer MonFound per bundle to re-attach, clean up or roll back
 * (its create never committed: its worker is killed first), remove half-made bundles and
 * orphan work dirs, then MonScanned. */
int mon_scan(struct monitor *m, const sv_MonRequest *rq);
/* The engine's next request, decoded and checked against the table (monitor.c): 1 with *rq
 * (to sv_pb_free) and its table index, 0 none yet, -ECONNRESET at EOF, or -errno (-EPROTO:
 * outside the table, logged). */
int mon_take_request(struct monitor *m, sv_MonRequest *rq, size_t *idx);
/* The request table as markdown (request, fds, when, handler), for DESIGN.md. */
void monitor_requests_print(FILE *out);

#endif
