/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/config.h: shimvisord's settings: defaults, config file (libinih), options. */
#ifndef SV_SUP_CONFIG_H
#define SV_SUP_CONFIG_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "policy.h"

#define SV_ALLOW_MAX 32             /* entries of allow_uids, of allow_gids */

/* What the monitor tells each engine it starts about the engines before it (`shimvisor
 * version`; DESIGN.md, the engine restart). Times: ms since the epoch. */
struct sv_engine_health {
	unsigned restarts;          /* restarts (attempts) since the first engine */
	unsigned loop;              /* ends in a row without a minute of health (the attempt) */
	long long started_ms;       /* when this engine was started */
	long long last_end_ms;      /* when the previous one was seen to end; 0: none did */
	int backoff_ms;             /* the wait the monitor chose after that end */
	int waited_ms;              /* from that end to this start, as it happened */
	char last_end[128];         /* why it ended: "killed by signal 9 (Killed)", ... */
};

/* Plain values only, no pointers: the monitor hands the whole struct to the engine it
 * execs, as bytes over a pipe (supervisor/engine_start.c). */
struct sv_config {
	char state[PATH_MAX];       /* bundles: <state>/<ns>/<id>; sockets: <state>/.s/ */
	char address[PATH_MAX];     /* control socket */
	char worker[PATH_MAX];      /* shimvisor-worker; "" = next to shimvisord, else PATH */
	char pidfile[PATH_MAX];
	char group[64];             /* the control socket's group (mode 0660); "" = root only */
	char engine_user[64];       /* the engine runs as this user (its uid and primary gid) */
	bool engine_user_shared;    /* let engine_user be nobody, a uid other processes share */
	char allow_uids[256];       /* clients served: uids (numbers or names), "," or " " */
	char allow_gids[256];       /* ... and gids, primary or supplementary */
	bool allow_gids_set;        /* unset: allow_gids is the group above */
	/* resolved to numbers by sv_config_resolve, in the monitor, at start */
	uid_t engine_uid;
	gid_t engine_gid, group_gid;
	size_t n_allow_uid, n_allow_gid;
	uid_t allow_uid[SV_ALLOW_MAX];
	gid_t allow_gid[SV_ALLOW_MAX];
	char cgroup_parent[256];    /* tasks' cgroups: <cgroup_parent>/<ns>/<id>; "" = none */
	bool task_cgroups_always;   /* every task gets one, not only those with limits */
	long long log_max_size;     /* a detached task's log: bytes per file; 0 = unbounded */
	int log_max_files;          /* rotated files kept beside it (log.1 ..) */
	int reattach_timeout_ms;    /* per-worker deadline when re-attaching after a restart */
	int cleanup_timeout_ms;     /* bound on a dead worker's `delete` action */
	int warm_delay_ms;          /* wait before exec'ing the next warm worker after a spawn */
	int oom_score_adj;          /* the monitor's and the engine's; workers and tasks: 0 */
	bool warm_worker;           /* keep a worker (and its task's first stage) exec'd ahead */
	char seccomp_profile[PATH_MAX]; /* default tasks' linux.seccomp; "" = the built-in one */
	/* fair service and bounded memory per client (supervisor/clients.c) */
	int client_idle_ms;         /* a client with no call in flight is closed after; 0 = never */
	int client_peer_max;        /* connections of one non-root uid */
	int client_root_reserve;    /* connections only root may use */
	int event_queue_max;        /* events a subscriber may leave unread in the engine */
	long long client_partial_max;   /* bytes of unfinished requests held across clients */
	bool foreground;
	char syslog_socket[108];    /* where lines go without -F: an AF_UNIX SOCK_DGRAM path */
	int log_level;              /* LOG_ERR .. LOG_DEBUG (common/log.h); -D: debug */
	int ready_fd;               /* -1, or an fd that gets "\n" once the daemon serves */
	struct sv_engine_health health; /* set by the monitor for each engine it starts */
	struct sv_policy policy;    /* [policy]: the most a task may be given (the monitor's) */
};

void sv_config_defaults(struct sv_config *c);
/* Load an ini file ([daemon] root=, state=, address=, worker=, pidfile=, group=,
 * engine_user=, engine_user_shared=, allow_uids=, allow_gids=, cgroup_parent=,
 * task_cgroups=always|limits, log_max_size=, log_max_files=,
 * reattach_timeout_ms=, cleanup_timeout_ms=, warm_worker=, warm_delay_ms=, oom_score_adj=, seccomp_profile=, client_idle_ms=,
 * client_peer_max=, client_root_reserve=, event_queue_max=, client_partial_max=, log_level=,
 * debug= (1: log_level debug), syslog_socket=;
 * [policy]: policy.h's keys). A missing default file
 * is fine; a missing explicit one is an error. 0 or -errno (-EINVAL with a message in err). */
int sv_config_load(struct sv_config *c, const char *path, bool must_exist, char *err, size_t errsz);

/* One setting by its config-file name (the options use it too). 0, or -1: unknown or bad. */
int sv_config_set(struct sv_config *c, const char *name, const char *value);

/* Names to numbers from /etc/passwd and /etc/group (no NSS), in the monitor before the
 * engine exists: engine_user (not root; not nobody unless engine_user_shared), group,
 * allow_uids, allow_gids (the group when unset). 0, or -EINVAL with a message in err. */
int sv_config_resolve(struct sv_config *c, char *err, size_t errsz);

#define SV_DEFAULT_CONFIG "/etc/shimvisor/shimvisord.conf"

#endif
