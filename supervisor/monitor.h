/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/monitor.h: the root monitor: spawns workers, reaps them, runs a dead worker's
 * cleanup and removes bundles. It serves a fixed table of requests from the engine and
 * parses no client bytes: of what the engine sends it parses only each config.json, against
 * the policy (policy.h), before storing it; DeleteResponse bytes pass through opaque. */
#ifndef SV_SUP_MONITOR_H
#define SV_SUP_MONITOR_H
#include "wire/fdchan.h"
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"

struct mon_child {
	pid_t pid;
	enum { CHILD_WORKER, CHILD_CLEANER, CHILD_IDLE } kind;
	char ns[80], id[80];
	uint32_t seq;             /* cleaner: the request to answer */
	int out_fd;               /* cleaner: its stdout, or -1 at EOF */
	uint8_t *out;             /* cleaner: what it printed (capped) */
	size_t out_len;
	int exited;               /* cleaner: reaped */
	int64_t deadline_ms;      /* cleaner: SIGKILL after this (CLOCK_MONOTONIC); not yet
				   * started (pid 0): the next attempt */
	int backoff_ms;           /* cleaner not started: the wait before the next attempt */
	int orphan;               /* cleaner: asked for by an engine since replaced: no reply */
};

struct monitor {
	const struct sv_config *cfg;
	int engine_fd;            /* SEQPACKET to the engine (non-blocking) */
	struct fdchan_q out;      /* replies it did not take yet, in order (never dropped) */
	pid_t engine_pid;
	int sig_fd;
	int state_fd, root_fd, sock_dir_fd;
	char worker_path[PATH_MAX];
	pid_t idle_pid;           /* a warm worker waiting on idle_fd, or 0 */
	int64_t warm_at_ms;       /* when to exec the next warm worker, 0 = not due */
	int idle_fd;
	struct mon_child *children;
	size_t nchildren, cap;
	int stopping;
	unsigned req_state;       /* the request table's state: MON_AWAIT_SCAN, MON_SERVING */
};
enum { MON_AWAIT_SCAN = 1 << 0, MON_SERVING = 1 << 1 };

/* Run the monitor's loop until SIGTERM/SIGINT or the engine's end (its death, or a request
 * outside the table: then it is killed). Returns an exit code: 0 after a stop. */
int monitor_run(struct monitor *m);
/* Forget the engine that ended: its unsent replies, the answers its cleanups were owed
 * (the next engine's scan finds what is left), the request table's state. */
void monitor_engine_gone(struct monitor *m);
/* Find shimvisor-worker: cfg->worker, else next to our executable, else on PATH. */
int monitor_find_worker(const struct sv_config *cfg, char *out, size_t sz);
/* The shim socket path of ns/id: <state>/.s/<32 hex of sha256("<state>/<ns>/<id>")>. */
int sv_shim_socket_path(const char *state, const char *ns, const char *id, char *out, size_t sz);

int64_t sv_now_ms(void);

/* Inside the monitor (monitor.c, monitor_scan.c). */
#include "monitor.pb.h"
void mon_reply_base(sv_MonReply *rep, uint32_t seq, const char *ns, const char *id);
/* Queue a reply to the engine with fds (dups kept until sent; the caller keeps its own). */
void mon_send_reply_fds(struct monitor *m, const sv_MonReply *rep, const int *fds, int nfds);
int mon_remove_task(struct monitor *m, const char *ns, const char *id);
/* MonScan: walk <state>, answer MonFound per bundle to re-attach or clean up, remove
 * half-made bundles and orphan work dirs, then MonScanned. */
int mon_scan(struct monitor *m, const sv_MonRequest *rq);
/* The engine's next request, decoded and checked against the table (monitor.c): 1 with *rq
 * (to sv_pb_free) and its table index, 0 none yet (or EOF: the receive says which), or
 * -errno (-EPROTO: outside the table, logged). */
int mon_take_request(struct monitor *m, sv_MonRequest *rq, size_t *idx);

#endif
