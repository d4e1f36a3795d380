/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/monitor.c: the root monitor's loop and its table of permitted engine requests. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/restart_policy.h"
#include "common/unixsock.h"
#include "monitor.h"
#include "monitor.pb.h"
#include "spawn.h"
#include "wire/bytes.h"
#include "wire/fdchan.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include <pb_encode.h>

#define CLEANER_OUT_MAX (64u << 10)

int sv_shim_socket_path(const char *state, const char *ns, const char *id, char *out, size_t sz)
{
	char dir[PATH_MAX];

	if ((size_t)snprintf(dir, sizeof(dir), "%s/.s", state) >= sizeof(dir))
		return -ENAMETOOLONG;
	return sv_shim_socket_name(dir, state, ns, id, out, sz);
}

int mon_watch(struct monitor *m, int fd, uint32_t events, uint8_t *tag, bool mod)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	if (m->ep <= 0)
		return 0;       /* before the loop: it watches what exists when it starts */
	return epoll_ctl(m->ep, mod ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void mon_forget(struct monitor *m, const uint8_t *tag)
{
	for (int i = 0; i < m->nbatch; i++)
		if (m->batch[i].data.ptr == tag)
			m->batch[i].data.ptr = NULL;
}

static uint64_t name_hash(const struct monitor *m, const char *ns, const char *id)
{
	return sv_siphash2(m->hash_key, ns, strlen(ns), id, strlen(id));
}

static struct mon_child *child_add(struct monitor *m)
{
	struct mon_child *c;

	if (m->nchildren == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 16;
		struct mon_child **n = realloc(m->children, ncap * sizeof(*n));
		if (!n)
			return NULL;
		m->children = n;
		m->cap = ncap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->out_fd = -1;
	c->log.fd = -1;
	c->log_tag = MT_CHILD_LOG;
	c->out_tag = MT_CLEANER_OUT;
	c->slot = m->nchildren;
	m->children[m->nchildren++] = c;
	return c;
}

/* c's pid, once it has one: found by child_find from then on. */
static void child_set_pid(struct monitor *m, struct mon_child *c, pid_t pid)
{
	if (c->indexed_pid)
		sv_htab_del(&m->child_index, &c->by_pid);
	c->pid = pid;
	c->indexed_pid = pid > 0 && sv_htab_add(&m->child_index, &c->by_pid, sv_hash_u64((uint64_t)pid)) == 0;
}

/* c is ns/id's worker: found by mon_worker_of from then on. */
static void child_set_worker(struct monitor *m, struct mon_child *c, const char *ns, const char *id)
{
	c->kind = CHILD_WORKER;
	snprintf(c->ns, sizeof(c->ns), "%s", ns);
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (!c->indexed_name)
		c->indexed_name = sv_htab_add(&m->worker_index, &c->by_name,
					      name_hash(m, c->ns, c->id)) == 0;
}

/* c's relay (and a cleaner's stdout), watched by the loop. */
static void child_watch(struct monitor *m, struct mon_child *c)
{
	if (c->log.fd >= 0 && mon_watch(m, c->log.fd, EPOLLIN, &c->log_tag, false) < 0)
		sv_warn("monitor: epoll_ctl: a child's log relay is not read");
	if (c->out_fd >= 0 && mon_watch(m, c->out_fd, EPOLLIN, &c->out_tag, false) < 0)
		sv_warn("monitor: epoll_ctl: a cleaner's output is not read");
}

static void cleaner_list(struct monitor *m, struct mon_child *c, bool on)
{
	if (on)
		sv_dlist_append(&m->cleaners, &c->cl_link);
	else
		sv_dlist_remove(&m->cleaners, &c->cl_link);
}

static void child_del(struct monitor *m, struct mon_child *c)
{
	mon_log_child_gone(m, c);
	mon_forget(m, &c->log_tag);
	mon_forget(m, &c->out_tag);
	if (c->out_fd >= 0)
		close(c->out_fd);
	free(c->out);
	child_set_pid(m, c, 0);
	if (c->indexed_name)
		sv_htab_del(&m->worker_index, &c->by_name);
	if (c->kind == CHILD_CLEANER)
		cleaner_list(m, c, false);
	m->children[c->slot] = m->children[--m->nchildren];
	m->children[c->slot]->slot = c->slot;
	free(c);
}

static struct mon_child *child_find(struct monitor *m, pid_t pid)
{
	for (struct sv_hnode *n = sv_htab_first(&m->child_index, sv_hash_u64((uint64_t)pid)); n;
	     n = sv_htab_next(n)) {
		struct mon_child *c = sv_container_of(n, struct mon_child, by_pid);
		if (c->pid == pid)
			return c;
	}
	return NULL;
}

struct mon_child *mon_worker_of(struct monitor *m, const char *ns, const char *id)
{
	for (struct sv_hnode *n = sv_htab_first(&m->worker_index, name_hash(m, ns, id)); n;
	     n = sv_htab_next(n)) {
		struct mon_child *c = sv_container_of(n, struct mon_child, by_name);
		if (c->kind == CHILD_WORKER && !strcmp(c->ns, ns) && !strcmp(c->id, id))
			return c;
	}
	return NULL;
}

void mon_reply_base(sv_MonReply *rep, uint32_t seq, const char *ns, const char *id)
{
	memset(rep, 0, sizeof(*rep));
	rep->seq = seq;
	snprintf(rep->ns, sizeof(rep->ns), "%s", ns);
	snprintf(rep->id, sizeof(rep->id), "%s", id);
}

/* Replies a wedged engine may leave queued before the monitor gives up on it. */
#define MON_OUT_MAX 65536

static void send_reply(struct monitor *m, const sv_MonReply *rep, int fd)
{
	mon_send_reply_fds(m, rep, &fd, fd >= 0);
}

int mon_send_reply_fds(struct monitor *m, const sv_MonReply *rep, const int *fds, int nfds)
{
	int r;

	if (m->engine_fd < 0)
		return 0;       /* no engine: the next one's scan finds what this was about */
	r = fdchan_q_send_fds(&m->out, m->engine_fd, sv_MonReply_fields, rep, fds, nfds);
	if (r < 0)
		sv_warn_err(r, "monitor: reply to engine");
	if (m->out.n > MON_OUT_MAX && m->engine_pid > 0 && !m->kill_why) {
		/* it reads nothing: the privileged side never waits on it, nor grows for it */
		sv_warn("monitor: the engine has not read %zu replies: stopping it", m->out.n);
		mon_engine_kill(m, "it did not read its replies");
	}
	return r;
}

/* A spawn or commit refused or failed (type: spawn_failed, commit_failed): err, as a positive
 * errno, and the policy's reason (NULL: none). */
static void send_failed(struct monitor *m, pb_size_t type, uint32_t seq, const char *ns,
			const char *id, int err, const char *reason)
{
	sv_MonReply rep;
	sv_MonFailed *f = type == sv_MonReply_spawn_failed_tag ? &rep.r.spawn_failed
							       : &rep.r.commit_failed;

	mon_reply_base(&rep, seq, ns, id);
	rep.which_r = type;
	f->err = err < 0 ? -err : err;
	f->reason = (char *)reason;
	send_reply(m, &rep, -1);
}

/* Remove everything of ns/id: rootfs mount (if one is left), bundle, socket.
 * Nothing is reached through a link: the bundle is opened O_NOFOLLOW below the namespace's
 * fd and rootfs unmounted only as its own directory (sv_umount_all_at); the removal never
 * follows a link nor crosses a mount (sv_remove_tree: a symlink planted as the bundle is
 * unlinked, its target left); the socket is the name derived from ns/id, in <state>/.s. */
int mon_remove_task(struct monitor *m, const char *ns, const char *id)
{
	char path[PATH_MAX + 200];
	int nsfd, bfd, r = 0, r2;

	nsfd = openat(m->state_fd, ns, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nsfd >= 0) {
		bfd = openat(nsfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (bfd >= 0) {
			r2 = sv_umount_all_at(bfd, SV_BUNDLE_ROOTFS, 16);
			if (r2 < 0)
				sv_warn_err(r2, "umount %s/%s/%s", ns, id, SV_BUNDLE_ROOTFS);
			close(bfd);
		}
		r = sv_remove_tree(nsfd, id);
		close(nsfd);
		unlinkat(m->state_fd, ns, AT_REMOVEDIR);     /* only if now empty */
	}
	if (sv_shim_socket_path(m->cfg->state, ns, id, path, sizeof(path)) == 0)
		unlinkat(m->sock_dir_fd, strrchr(path, '/') + 1, 0);
	if (r < 0)
		sv_warn_err(r, "remove task %s/%s", ns, id);
	return r;
}

/* Remove what is left of ns/id, then answer the engine's request seq (unless reply is false:
 * the engine that asked was replaced). */
static void finish_cleanup(struct monitor *m, bool reply, uint32_t seq, const char *ns,
			   const char *id, const uint8_t *out, size_t len)
{
	pb_bytes_array_t *resp = NULL;
	sv_MonReply rep;
	int r;

	r = mon_remove_task(m, ns, id);
	if (!reply)
		return;
	mon_reply_base(&rep, seq, ns, id);
	rep.which_r = sv_MonReply_cleaned_tag;
	rep.r.cleaned.err = r < 0 ? -r : 0;
	if (len)
		resp = sv_bytes_new(out, len);
	rep.r.cleaned.delete_response = resp;
	send_reply(m, &rep, -1);
	free(resp);
}

/* Keep one worker exec'd and waiting (spawn.c: spawn_idle). */
static void warm_up(struct monitor *m)
{
	struct mon_child *c;
	int log_fd;

	if (m->idle_fd >= 0 || spawn_idle(m, &log_fd) < 0 || m->idle_fd < 0)
		return;
	c = child_add(m);
	if (c) {
		child_set_pid(m, c, m->idle_pid);
		c->kind = CHILD_IDLE;
		c->log.fd = log_fd;
		child_watch(m, c);
	} else {
		mon_log_relay_close(m, log_fd);
	}
}

/* The restart record of a request: 0 with buf/len (len 0: none to write), or -EINVAL. */
static int restart_record_of(bool has, const sv_MonRestart *mr, char *buf, size_t size, size_t *len)
{
	struct sv_restart r = { 0 };

	*len = 0;
	if (!has || (mr->kind == SV_RESTART_NO && !mr->auto_remove))
		return has && (mr->max || mr->count || mr->stopped) ? -EINVAL : 0;
	r = (struct sv_restart){ .kind = mr->kind, .max = mr->max, .count = mr->count,
				 .stopped = mr->stopped, .auto_remove = mr->auto_remove };
	*len = sv_restart_record(&r, buf, size);
	/* the monitor writes only what it would read back */
	return sv_restart_record_parse(buf, *len, &r);
}

static int mon_spawn(struct monitor *m, const sv_MonRequest *rq)
{
	const sv_MonSpawn *s = &rq->op.spawn;
	struct spawn_result res;
	struct mon_child *c;
	sv_MonReply rep;
	char rec[64];
	size_t reclen;
	int r;

	if (!sv_id_valid(s->ns) || !sv_id_valid(s->id)) {
		send_failed(m, sv_MonReply_spawn_failed_tag, rq->seq, "", "", EINVAL, NULL);
		return 0;
	}
	if (restart_record_of(s->has_restart, &s->restart, rec, sizeof(rec), &reclen) < 0 ||
	    (s->respawn ? (s->config && s->config->size) || (s->summary && s->summary->size)
			: !s->config || s->config->size == 0)) {
		/* the size is bounded by the field type; a restart keeps the bundle's config and
		 * summary */
		send_failed(m, sv_MonReply_spawn_failed_tag, rq->seq, s->ns, s->id, EINVAL, NULL);
		return 0;
	}
	if (s->summary && s->summary->size > SV_SUMMARY_MAX) {
		/* never parsed here, only stored: its size is all there is to check */
		char why[64];
		snprintf(why, sizeof(why), "summary: %u bytes, over %u", (unsigned)s->summary->size,
			 SV_SUMMARY_MAX);
		sv_warn("spawn %s/%s refused: %s", s->ns, s->id, why);
		send_failed(m, sv_MonReply_spawn_failed_tag, rq->seq, s->ns, s->id, EMSGSIZE, why);
		return 0;
	}
	if (s->respawn) {
		/* a restart: the task's worker must have ended (its bundle is then ours alone) */
		if (mon_worker_of(m, s->ns, s->id)) {
			sv_warn("monitor: restart of %s/%s from the engine: its worker still runs",
				s->ns, s->id);
			return -EPROTO;
		}
		r = respawn_worker(m, s->ns, s->id, &res);
	} else {
		/* the policy, before any root process reads the config (policy_check.c) */
		struct sv_policy_task pt = { .ns = s->ns, .id = s->id,
					     .cgroup_parent = m->cfg->cgroup_parent };
		char why[256];
		r = sv_policy_check(&m->cfg->policy, &pt, (const char *)s->config->bytes,
				    s->config->size, why, sizeof(why));
		if (r < 0) {
			sv_warn("spawn %s/%s refused: %s", s->ns, s->id, why);
			send_failed(m, sv_MonReply_spawn_failed_tag, rq->seq, s->ns, s->id, r, why);
			return 0;
		}
		r = spawn_worker(m, s->ns, s->id, s->config, s->summary, &res);
	}
	if (r < 0) {
		send_failed(m, sv_MonReply_spawn_failed_tag, rq->seq, s->ns, s->id, r, NULL);
		return 0;
	}
	if (reclen && (r = spawn_write_restart(m, s->ns, s->id, rec, reclen)) < 0)
		sv_warn_err(r, "spawn %s/%s: write its restart record", s->ns, s->id);
	c = child_find(m, res.pid);      /* the warm worker, now assigned */
	if (!c && (c = child_add(m))) {
		c->log.fd = res.log_fd;
		child_set_pid(m, c, res.pid);
		child_watch(m, c);
	} else {
		mon_log_relay_close(m, res.log_fd);
	}
	if (c) {
		child_set_worker(m, c, s->ns, s->id);
		c->uncommitted = !s->respawn;   /* a restart has nothing to commit */
	}
	/* the engine opens nothing in <state>: it gets its end of the worker's link, a
	 * socketpair made before the worker started (so it cannot fail here) */
	mon_reply_base(&rep, rq->seq, s->ns, s->id);
	rep.which_r = sv_MonReply_spawned_tag;
	rep.r.spawned.pid = (uint32_t)res.pid;
	rep.r.spawned.bundle = res.bundle;
	mon_send_reply_fds(m, &rep, &res.link_fd, 1);
	close(res.link_fd);
	/* the next task's warm worker, once this task's own set-up had the CPUs: exec'ing it at
	 * once competes with that set-up (measured: run --rm 1.52x -> 1.39x the unshare floor,
	 * start rate 244 -> 298/s, with 20 ms on 2 cores) */
	m->warm_at_ms = sv_now_ms() + m->cfg->warm_delay_ms;
	return 0;
}

/* The worker's Create succeeded: keep the task (remove its bundle's `creating` mark), then
 * answer; the engine answers its client after that. A worker reaped meanwhile is answered
 * ENOENT (its cleanup follows its exit notice, as any dead worker's); a task this engine
 * did not spawn, or one already committed, is outside the table. */
static int mon_commit(struct monitor *m, const sv_MonRequest *rq)
{
	const sv_MonCommit *cm = &rq->op.commit;
	struct mon_child *c;
	sv_MonReply rep;
	char path[2 * SV_ID_SZ + sizeof(SV_BUNDLE_CREATING) + 2];

	if (!sv_id_valid(cm->ns) || !sv_id_valid(cm->id)) {
		send_failed(m, sv_MonReply_commit_failed_tag, rq->seq, "", "", EINVAL, NULL);
		return 0;
	}
	c = mon_worker_of(m, cm->ns, cm->id);
	if (!c) {
		send_failed(m, sv_MonReply_commit_failed_tag, rq->seq, cm->ns, cm->id, ENOENT, NULL);
		return 0;
	}
	if (!c->uncommitted) {
		sv_warn("monitor: commit of %s/%s from the engine: not a create of this engine in "
			"flight", cm->ns, cm->id);
		return -EPROTO;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", cm->ns, cm->id, SV_BUNDLE_CREATING);
	if (unlinkat(m->state_fd, path, 0) < 0 && errno != ENOENT) {
		send_failed(m, sv_MonReply_commit_failed_tag, rq->seq, cm->ns, cm->id, errno, NULL);
		return 0;
	}
	c->uncommitted = 0;
	mon_reply_base(&rep, rq->seq, cm->ns, cm->id);
	rep.which_r = sv_MonReply_committed_tag;
	send_reply(m, &rep, -1);
	return 0;
}

/* A client stopped a task with a restart policy: its record says so, so that a daemon
 * restart does not bring it back. Only for a bundle that exists. */
static int mon_record(struct monitor *m, const sv_MonRequest *rq)
{
	const sv_MonRecord *rc = &rq->op.record;
	sv_MonReply rep;
	char rec[64];
	size_t len;
	int r;

	if (!sv_id_valid(rc->ns) || !sv_id_valid(rc->id))
		r = -EINVAL;
	else if ((r = restart_record_of(rc->has_restart, &rc->restart, rec, sizeof(rec), &len)) == 0)
		r = len ? spawn_write_restart(m, rc->ns, rc->id, rec, len) : -EINVAL;
	mon_reply_base(&rep, rq->seq, sv_id_valid(rc->ns) ? rc->ns : "", sv_id_valid(rc->id) ? rc->id : "");
	rep.which_r = sv_MonReply_recorded_tag;
	rep.r.recorded.err = r < 0 ? -r : 0;
	send_reply(m, &rep, -1);
	return 0;
}

#define CLEANER_RETRY_MAX_MS 30000

/* Start c's cleaner (the dead worker's `delete` action, which kills what is left of its
 * task). 1 started; 0 it could not start (the binary gone, out of processes or fds) and
 * is retried later: the bundle is what it needs, never removed before; -1 there is no
 * bundle to clean. */
static int cleaner_start(struct monitor *m, struct mon_child *c)
{
	char path[PATH_MAX];
	struct stat st;
	int out_fd, log_fd;
	pid_t pid = spawn_cleaner(m, c->ns, c->id, &out_fd, &log_fd);

	if (pid > 0) {
		child_set_pid(m, c, pid);
		c->out_fd = out_fd;
		c->log.fd = log_fd;
		child_watch(m, c);
		c->deadline_ms = sv_now_ms() + m->cfg->cleanup_timeout_ms;
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", c->ns, c->id);
	if (fstatat(m->state_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 ? errno == ENOENT : !S_ISDIR(st.st_mode))
		return -1;      /* gone, or not a bundle (a link planted there): nothing to clean in */
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 1000;
	if (c->backoff_ms > CLEANER_RETRY_MAX_MS)
		c->backoff_ms = CLEANER_RETRY_MAX_MS;
	c->deadline_ms = sv_now_ms() + c->backoff_ms;
	sv_warn_err(pid, "cleanup of %s/%s: cannot start the cleaner; again in %d ms", c->ns, c->id,
		    c->backoff_ms);
	return 0;
}

static int mon_cleanup(struct monitor *m, const sv_MonRequest *rq)
{
	const sv_MonCleanup *cl = &rq->op.cleanup;
	struct mon_child *c;

	if (!sv_id_valid(cl->ns) || !sv_id_valid(cl->id)) {
		sv_MonReply rep;

		mon_reply_base(&rep, rq->seq, "", "");
		rep.which_r = sv_MonReply_cleaned_tag;
		rep.r.cleaned.err = EINVAL;
		send_reply(m, &rep, -1);
		return 0;
	}
	if (cl->dead && (c = child_add(m))) {
		c->kind = CHILD_CLEANER;
		cleaner_list(m, c, true);
		c->seq = rq->seq;
		snprintf(c->ns, sizeof(c->ns), "%s", cl->ns);
		snprintf(c->id, sizeof(c->id), "%s", cl->id);
		if (cleaner_start(m, c) >= 0)
			return 0;
		child_del(m, c);
	}
	/* not dead (a half-made bundle), or nothing left to clean: remove what is there */
	finish_cleanup(m, true, rq->seq, cl->ns, cl->id, NULL, 0);
	return 0;
}

/* The permitted requests (OpenSSH's monitor table): each with the fds it carries (none: the
 * engine never passes the monitor an fd) and the states in which it may come. The scan
 * comes first and once; spawns, cleanups and commits after it. A packet must be exactly its
 * message: its bytes re-encode to the same length (no unknown or repeated field). Anything
 * else ends the engine (killed; the monitor starts another after its backoff). The engine
 * checks the monitor's replies against the mirror of this table (engine_replies.c). */
static const struct {
	pb_size_t tag;
	const char *name;
	int nfds;
	unsigned states;
	int (*handle)(struct monitor *, const sv_MonRequest *);
	const char *handler;
} requests[] = {
#define REQUEST(op, nfds, states, fn) { sv_MonRequest_##op##_tag, #op, nfds, states, fn, #fn }
	REQUEST(scan, 0, MON_AWAIT_SCAN, mon_scan),
	REQUEST(spawn, 0, MON_SERVING, mon_spawn),
	REQUEST(cleanup, 0, MON_SERVING, mon_cleanup),
	REQUEST(commit, 0, MON_SERVING, mon_commit),
	REQUEST(record, 0, MON_SERVING, mon_record),
#undef REQUEST
};

/* -EPROTO, with the reason logged, for a request outside the table. */
static int mon_request_ok(struct monitor *m, const sv_MonRequest *rq, const struct fdchan_got *got,
			  size_t *idx)
{
	size_t i, size = 0;

	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (requests[i].tag == rq->which_op)
			break;
	if (i == sizeof(requests) / sizeof(requests[0]) || rq->seq == 0) {
		sv_warn("monitor: request %u from the engine is not permitted", rq->which_op);
		return -EPROTO;
	}
	if (got->nfds != requests[i].nfds || got->cut) {
		sv_warn("monitor: %s from the engine with %d fds%s, not %d", requests[i].name,
			got->nfds, got->cut ? " (and more cut)" : "", requests[i].nfds);
		return -EPROTO;
	}
	if (!(requests[i].states & m->req_state)) {
		sv_warn("monitor: %s from the engine is not permitted %s", requests[i].name,
			m->req_state == MON_AWAIT_SCAN ? "before its scan" : "after its scan");
		return -EPROTO;
	}
	if (!pb_get_encoded_size(&size, sv_MonRequest_fields, rq) || size != got->len) {
		sv_warn("monitor: %s from the engine is not exactly its fields (%zu bytes, %zu "
			"as encoded)", requests[i].name, got->len, size);
		return -EPROTO;
	}
	*idx = i;
	return 0;
}

int mon_take_request(struct monitor *m, sv_MonRequest *rq, size_t *idx)
{
	struct fdchan_got got;
	int r;

	r = fdchan_recv_packet(m->engine_fd, sv_MonRequest_fields, rq, MSG_DONTWAIT, &got);
	if (r <= 0)
		return r;
	m->engine_spoke = true;     /* it started: a restart, not the daemon's end, if it ends */
	r = mon_request_ok(m, rq, &got, idx);
	while (got.nfds > 0)
		close(got.fds[--got.nfds]);
	if (r < 0) {
		sv_pb_free(sv_MonRequest_fields, rq);
		return r;
	}
	return 1;
}

static const char *state_names(unsigned states)
{
	return states == MON_AWAIT_SCAN ? "before the scan" : states == MON_SERVING ? "after the scan"
										   : "any";
}

void monitor_requests_print(FILE *out)
{
	fprintf(out, "| request | fds | when | handler |\n|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		fprintf(out, "| %s | %d | %s | %s |\n", requests[i].name, requests[i].nfds,
			state_names(requests[i].states), requests[i].handler);
}

static int engine_input(struct monitor *m)
{
	sv_MonRequest rq;
	size_t i;
	int r;

	for (;;) {
		if ((r = mon_take_request(m, &rq, &i)) <= 0)
			return r;
		if (requests[i].tag == sv_MonRequest_scan_tag)
			m->req_state = MON_SERVING;
		r = requests[i].handle(m, &rq);
		sv_pb_free(sv_MonRequest_fields, &rq);
		if (r < 0)
			return r;
	}
}

static void cleaner_read(struct mon_child *c)
{
	uint8_t buf[4096];
	ssize_t n;

	for (;;) {
		n = read(c->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(c->out_fd);
			c->out_fd = -1;
			return;
		}
		if (c->out_len + (size_t)n > CLEANER_OUT_MAX)
			continue;       /* over the cap: drain, keep what fits */
		uint8_t *nb = realloc(c->out, c->out_len + (size_t)n);
		if (!nb)
			continue;
		c->out = nb;
		memcpy(c->out + c->out_len, buf, (size_t)n);
		c->out_len += (size_t)n;
	}
}

static void cleaners_progress(struct monitor *m)
{
	int64_t now = sv_now_ms();

	for (struct sv_dlink *n = m->cleaners.head, *next; n; n = next) {
		struct mon_child *c = sv_container_of(n, struct mon_child, cl_link);

		next = n->next;
		if (c->pid == 0) {
			/* not started yet: its next attempt */
			if (now >= c->deadline_ms && cleaner_start(m, c) < 0) {
				finish_cleanup(m, !c->orphan, c->seq, c->ns, c->id, NULL, 0);
				child_del(m, c);
			}
			continue;
		}
		if (!c->exited && now >= c->deadline_ms) {
			sv_warn("cleanup of %s/%s took over %d ms: killed", c->ns, c->id,
				m->cfg->cleanup_timeout_ms);
			kill(c->pid, SIGKILL);
			c->deadline_ms = INT64_MAX;
		}
		if (c->exited && c->out_fd >= 0 && now >= c->deadline_ms) {
			close(c->out_fd);       /* a grandchild holds the pipe: stop waiting */
			c->out_fd = -1;
		}
		if (c->exited && c->out_fd < 0) {
			finish_cleanup(m, !c->orphan, c->seq, c->ns, c->id, c->out,
				       c->out_len);
			child_del(m, c);
		}
	}
}

static void reap(struct monitor *m)
{
	sv_MonReply rep;
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == m->engine_pid) {
			mon_engine_ended(m, st);
			continue;
		}
		struct mon_child *c = child_find(m, pid);
		if (!c)
			continue;       /* an orphan of a dead task, reparented to us */
		if (c->kind == CHILD_IDLE) {
			if (m->idle_pid == pid) {       /* not retired by a reload */
				close(m->idle_fd);
				m->idle_fd = -1;
				m->idle_pid = 0;
			}
			child_del(m, c);
		} else if (c->kind == CHILD_WORKER) {
			mon_reply_base(&rep, 0, c->ns, c->id);
			rep.which_r = sv_MonReply_exited_tag;
			rep.r.exited.pid = (uint32_t)pid;
			rep.r.exited.wstatus = st;
			send_reply(m, &rep, -1);
			child_del(m, c);
		} else {
			c->exited = 1;
			c->deadline_ms = sv_now_ms() + 1000;   /* grace to drain its stdout */
			/* its pid may be reused by the next child meanwhile: no longer found by it */
			sv_htab_del(&m->child_index, &c->by_pid);
			c->indexed_pid = false;
		}
	}
}

static int signals(struct monitor *m)
{
	struct signalfd_siginfo si;

	while (read(m->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap(m);
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			m->stopping = 1;
			if (m->engine_pid > 0)
				kill(m->engine_pid, SIGTERM);
		} else if (si.ssi_signo == SIGHUP) {
			mon_reload(m);
		}
	}
	return 0;
}

void monitor_engine_gone(struct monitor *m)
{
	fdchan_q_clear(&m->out);
	for (size_t i = 0; i < m->nchildren; i++) {
		if (m->children[i]->kind == CHILD_CLEANER)
			m->children[i]->orphan = 1;
		m->children[i]->uncommitted = 0;   /* the next engine's scan rolls them back */
	}
	m->req_state = MON_AWAIT_SCAN;
}

/* The engine channel's events: EPOLLOUT only while replies wait for room. */
static void engine_events(struct monitor *m)
{
	uint32_t want = EPOLLIN | (fdchan_q_pending(&m->out) ? EPOLLOUT : 0);

	if (m->engine_fd >= 0 && want != m->engine_ev &&
	    mon_watch(m, m->engine_fd, want, &m->engine_tag, true) == 0)
		m->engine_ev = want;
}

void mon_engine_watch(struct monitor *m)
{
	m->engine_ev = EPOLLIN;
	if (m->engine_fd >= 0 && mon_watch(m, m->engine_fd, EPOLLIN, &m->engine_tag, false) < 0)
		sv_die(-errno, "monitor: epoll_ctl");
}

static void loop_setup(struct monitor *m)
{
	int r = sv_hash_key(m->hash_key);

	if (r < 0)
		sv_die(r, "monitor: getrandom");
	m->ep = epoll_create1(EPOLL_CLOEXEC);
	if (m->ep < 0)
		sv_die(-errno, "monitor: epoll");
	m->sig_tag = MT_SIG;
	m->engine_tag = MT_ENGINE;
	m->engine_log_tag = MT_ENGINE_LOG;
	if (mon_watch(m, m->sig_fd, EPOLLIN, &m->sig_tag, false) < 0 ||
	    (m->log.engine.fd >= 0 &&
	     mon_watch(m, m->log.engine.fd, EPOLLIN, &m->engine_log_tag, false) < 0))
		sv_die(-errno, "monitor: epoll_ctl");
	mon_engine_watch(m);
}

/* One ready registration; pass 0 takes the log relays only (a child's last lines are read
 * before its reaping closes its relay), pass 1 the rest. */
static void dispatch(struct monitor *m, uint8_t *tag, int pass)
{
	struct mon_child *c;
	int r;

	if (!tag || (pass == 0) != (*tag == MT_ENGINE_LOG || *tag == MT_CHILD_LOG))
		return;
	switch (*tag) {
	case MT_ENGINE_LOG:
		mon_log_input(m, NULL);
		break;
	case MT_CHILD_LOG:
		c = sv_container_of(tag, struct mon_child, log_tag);
		mon_log_input(m, c);
		break;
	case MT_SIG:
		signals(m);
		break;
	case MT_CLEANER_OUT:
		c = sv_container_of(tag, struct mon_child, out_tag);
		if (c->out_fd >= 0)
			cleaner_read(c);
		break;
	case MT_ENGINE:
		/* (an engine reaped above closed its channel: nothing of it is read) */
		if (m->engine_fd < 0)
			break;
		r = engine_input(m);
		if (r == -EBADMSG) {
			sv_warn("monitor: undecodable request from the engine");
			mon_engine_kill(m, "an undecodable request");
		} else if (r == -EPROTO) {
			mon_engine_kill(m, "a request outside its table");
		} else if (r < 0 && r != -ECONNRESET) {
			sv_warn_err(r, "monitor: engine channel");
			mon_engine_kill(m, "its channel failed");
		}
		if (r < 0)
			mon_engine_drop(m);
		break;
	}
}

int monitor_run(struct monitor *m)
{
	struct epoll_event evs[64];

	loop_setup(m);
	m->req_state = MON_AWAIT_SCAN;
	warm_up(m);

	for (;;) {
		int64_t next = INT64_MAX;
		int n;

		/* the engine that ended is replaced once its backoff is over; meanwhile clients
		 * wait in the listening socket's backlog, and workers, cleaners and signals are
		 * served here as ever */
		if (m->engine_pid == 0 && m->engine_fd < 0 && (m->stopping || m->start_failed))
			return m->stopping ? 0 : 1;
		mon_engine_due(m, sv_now_ms(), &next);
		mon_log_due(m, sv_now_ms(), &next);
		if (m->engine_fd >= 0 && fdchan_q_flush(&m->out, m->engine_fd) < 0)
			sv_warn("monitor: the engine channel is gone");  /* its EOF drops it */
		engine_events(m);
		for (struct sv_dlink *l = m->cleaners.head; l; l = l->next) {
			struct mon_child *c = sv_container_of(l, struct mon_child, cl_link);
			if (c->deadline_ms < next)
				next = c->deadline_ms;
		}
		if (m->warm_at_ms && m->warm_at_ms < next)
			next = m->warm_at_ms;
		int timeout = -1;
		if (next != INT64_MAX) {
			int64_t d = next - sv_now_ms();
			timeout = d < 0 ? 0 : (int)(d > 60000 ? 60000 : d);
		}
		n = epoll_wait(m->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
		if (n < 0 && errno != EINTR)
			sv_die(-errno, "monitor: epoll_wait");
		m->batch = evs;
		m->nbatch = n > 0 ? n : 0;
		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < m->nbatch; i++)
				dispatch(m, evs[i].data.ptr, pass);
		m->nbatch = 0;
		cleaners_progress(m);
		if (m->warm_at_ms && sv_now_ms() >= m->warm_at_ms) {
			m->warm_at_ms = 0;
			warm_up(m);
		}
	}
}

void monitor_free(struct monitor *m)
{
	for (size_t i = 0; i < m->nchildren; i++) {
		free(m->children[i]->out);
		free(m->children[i]);
	}
	free(m->children);
	sv_htab_free(&m->child_index);
	sv_htab_free(&m->worker_index);
	m->children = NULL;
	m->nchildren = m->cap = 0;
}
