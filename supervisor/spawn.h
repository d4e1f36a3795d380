/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/spawn.h: the monitor's fork+exec of workers and of a dead worker's cleanup. */
#ifndef SV_SUP_SPAWN_H
#define SV_SUP_SPAWN_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <pb.h>

struct monitor;

struct spawn_result {
	pid_t pid;
	int link_fd;              /* the engine's end of the worker's link (replies and reports) */
	int log_fd;               /* a worker exec'd for it: its log relay (the monitor's end) */
	char address[128];        /* unix:///... */
	char bundle[4096];
};

/* Make the bundle (config.json, the summary if any, rootfs/), the work dir and the listening
 * shim socket, then fork+exec the worker on fds SV_FD_LISTEN/SV_FD_LINK. ns and id are
 * already valid. */
int spawn_worker(struct monitor *m, const char *ns, const char *id, const pb_bytes_array_t *config,
		 const pb_bytes_array_t *summary, struct spawn_result *res);
/* A restart: a new worker on the existing bundle of ns/id (its worker ended): the last run's
 * records (exit, init.pid, cgroup) and socket removed, config.json and the log kept. */
int respawn_worker(struct monitor *m, const char *ns, const char *id, struct spawn_result *res);
/* Write the bundle's restart record (tmp+rename); 0 or -errno. */
int spawn_write_restart(struct monitor *m, const char *ns, const char *id, const void *rec,
			size_t len);
/* Exec a warm worker (`shimvisor-worker idle`) ahead of need: spawn_worker hands it the
 * next task instead of forking and exec'ing on the request's path. Not with debug: then every
 * spawn execs. Sets m->idle_pid/idle_fd and *log_fd (its log relay, -1: none); 0 or -errno. */
int spawn_idle(struct monitor *m, int *log_fd);
/* Run `shimvisor-worker ... delete` in the bundle with stdout on a pipe (*out_fd,
 * non-blocking) and *log_fd its log relay. Returns its pid, or a negative errno (-ENOENT: no
 * bundle). Every child's fd 2 is a log relay of its own (monitor_log.c). */
pid_t spawn_cleaner(struct monitor *m, const char *ns, const char *id, int *out_fd, int *log_fd);

#endif
