/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/config_reload.c: SIGHUP to the monitor: shimvisord.conf read again (the options
 * again on top), what can change live applied at once, the rest named; the engine's live
 * settings sent to it as MonSettings. Tasks are never touched. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/clock.h"
#include "common/log.h"
#include "common/names.h"
#include "common/procfs.h"
#include "config_reload.h"
#include "engine.h"
#include "monitor.h"
#include "wire/bytes.h"
#include "wire/limits.h"

int sv_override(struct sv_overrides *ov, struct sv_config *c, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < ov->n && strcmp(ov->o[i].name, name); i++)
		;
	if (i == SV_OVERRIDES_MAX || strlen(name) >= sizeof(ov->o[i].name) ||
	    strlen(value) >= sizeof(ov->o[i].value) || sv_config_set(c, name, value) < 0)
		return -1;
	snprintf(ov->o[i].name, sizeof(ov->o[i].name), "%s", name);
	snprintf(ov->o[i].value, sizeof(ov->o[i].value), "%s", value);
	ov->n += i == ov->n;
	return 0;
}

int sv_config_reread(const struct sv_reload *rl, struct sv_config *next, char *err, size_t errsz)
{
	char why[512];
	int r;

	sv_config_defaults(next);
	r = sv_config_load(next, rl->file, rl->must_exist, err, errsz);
	for (size_t i = 0; r == 0 && i < rl->ov.n; i++)
		if (sv_config_set(next, rl->ov.o[i].name, rl->ov.o[i].value) < 0) {
			snprintf(err, errsz, "option %s = %s: refused", rl->ov.o[i].name,
				 rl->ov.o[i].value);
			r = -EINVAL;
		}
	if (r == 0) {
		next->foreground = rl->cfg->foreground;
		next->ready_fd = -1;
		next->health = rl->cfg->health;
		r = sv_config_resolve(next, why, sizeof(why));
		if (r < 0)
			snprintf(err, errsz, "%s: %s", rl->file, why);
	}
	if (r < 0)
		sv_policy_free(&next->policy);
	return r;
}

/* ---- the settings, and which change live ---- */

enum kind { K_STR, K_INT, K_LL, K_BOOL, K_UIDS, K_GIDS, K_POLICY };

SV_NAMES_BEGIN         /* the names inline (common/names.h): no pointer to relocate */
static const struct setting {
	char name[20];          /* its config-file key ("policy": the [policy] section) */
	enum kind kind;
	size_t off, size;       /* the field in struct sv_config */
	bool live;
} settings[] = {
#define S(name, kind, field, live) \
	{ name, kind, offsetof(struct sv_config, field), sizeof(((struct sv_config *)0)->field), live }
	/* fixed at start: the lock, sockets, fds and the engine's identity come from these */
	S("state",               K_STR,    state,               false),
	S("address",             K_STR,    address,             false),
	S("worker",              K_STR,    worker,              false),
	S("pidfile",             K_STR,    pidfile,             false),
	S("group",               K_STR,    group,               false),
	S("engine_user",         K_STR,    engine_user,         false),
	S("engine_user_shared",  K_BOOL,   engine_user_shared,  false),
	S("syslog_socket",       K_STR,    syslog_socket,       false),
	/* live: for what comes next (a connection, a create, a worker, a log line) */
	S("log_level",           K_INT,    log_level,           true),
	S("allow_uids",          K_UIDS,   allow_uid,           true),
	S("allow_gids",          K_GIDS,   allow_gid,           true),
	S("cgroup_parent",       K_STR,    cgroup_parent,       true),
	S("task_cgroups",        K_BOOL,   task_cgroups_always, true),
	S("log_max_size",        K_LL,     log_max_size,        true),
	S("log_max_files",       K_INT,    log_max_files,       true),
	S("reattach_timeout_ms", K_INT,    reattach_timeout_ms, true),
	S("cleanup_timeout_ms",  K_INT,    cleanup_timeout_ms,  true),
	S("warm_worker",         K_BOOL,   warm_worker,         true),
	S("warm_delay_ms",       K_INT,    warm_delay_ms,       true),
	S("oom_score_adj",       K_INT,    oom_score_adj,       true),
	S("seccomp_profile",     K_STR,    seccomp_profile,     true),
	S("client_idle_ms",      K_INT,    client_idle_ms,      true),
	S("client_peer_max",     K_INT,    client_peer_max,     true),
	S("client_root_reserve", K_INT,    client_root_reserve, true),
	S("event_queue_max",     K_INT,    event_queue_max,     true),
	S("client_partial_max",  K_LL,     client_partial_max,  true),
	S("policy",              K_POLICY, policy,              true),
#undef S
};
SV_NAMES_END
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

int sv_config_live(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(settings[i].name, name))
			return settings[i].live;
	return -1;
}

static bool ids_equal(size_t na, const unsigned *a, size_t nb, const unsigned *b)
{
	return na == nb && !memcmp(a, b, na * sizeof(*a));
}

static bool same(const struct setting *s, const struct sv_config *a, const struct sv_config *b)
{
	const char *fa = (const char *)a + s->off, *fb = (const char *)b + s->off;

	switch (s->kind) {
	case K_STR:
		return !strcmp(fa, fb);
	case K_INT:
		return *(const int *)fa == *(const int *)fb;
	case K_LL:
		return *(const long long *)fa == *(const long long *)fb;
	case K_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case K_UIDS:
		return ids_equal(a->n_allow_uid, a->allow_uid, b->n_allow_uid, b->allow_uid);
	case K_GIDS:
		return ids_equal(a->n_allow_gid, a->allow_gid, b->n_allow_gid, b->allow_gid);
	case K_POLICY:
		return sv_policy_equal(&a->policy, &b->policy);
	}
	return false;
}

/* run's setting s becomes next's (the policy: taken, run's freed). */
static void take(const struct setting *s, struct sv_config *run, struct sv_config *next)
{
	switch (s->kind) {
	case K_UIDS:
		memcpy(run->allow_uids, next->allow_uids, sizeof(run->allow_uids));
		run->n_allow_uid = next->n_allow_uid;
		break;
	case K_GIDS:
		memcpy(run->allow_gids, next->allow_gids, sizeof(run->allow_gids));
		run->allow_gids_set = next->allow_gids_set;
		run->n_allow_gid = next->n_allow_gid;
		break;
	case K_POLICY:
		sv_policy_free(&run->policy);
		run->policy = next->policy;
		memset(&next->policy, 0, sizeof(next->policy));
		return;
	default:
		break;
	}
	memcpy((char *)run + s->off, (char *)next + s->off, s->size);
}

static void name_in(char *list, size_t sz, const char *name)
{
	size_t n = strlen(list);

	snprintf(list + n, sz - n, "%s%s", n ? ", " : "", name);
}

int sv_config_apply(struct sv_config *run, struct sv_config *next, char *changed, size_t csz,
		    char *fixed, size_t fsz)
{
	int n = 0;

	changed[0] = fixed[0] = 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		if (same(s, run, next))
			continue;
		if (!s->live) {
			name_in(fixed, fsz, s->name);
			continue;
		}
		take(s, run, next);
		name_in(changed, csz, s->name);
		n++;
	}
	sv_policy_free(&next->policy);        /* unchanged: run keeps its own */
	return n;
}

/* ---- the engine's live settings: MonSettings ---- */

void sv_settings_fill(sv_MonSettings *s, const struct sv_config *c)
{
	memset(s, 0, sizeof(*s));
	s->log_level = c->log_level;
	s->client_idle_ms = c->client_idle_ms;
	s->client_peer_max = c->client_peer_max;
	s->client_root_reserve = c->client_root_reserve;
	s->event_queue_max = c->event_queue_max;
	s->client_partial_max = c->client_partial_max;
	s->allow_uid_count = (pb_size_t)c->n_allow_uid;
	s->allow_uid = (uint32_t *)c->allow_uid;
	s->allow_gid_count = (pb_size_t)c->n_allow_gid;
	s->allow_gid = (uint32_t *)c->allow_gid;
	s->cgroup_parent = (char *)c->cgroup_parent;
	s->task_cgroups_always = c->task_cgroups_always;
	s->log_max_size = c->log_max_size;
	s->log_max_files = c->log_max_files;
	s->reattach_timeout_ms = c->reattach_timeout_ms;
	s->seccomp_profile = (char *)c->seccomp_profile;
}

/* name = the number, as the config file would say it. */
static int set_num(struct sv_config *c, const char *name, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	return sv_config_set(c, name, buf);
}

int sv_settings_apply(struct sv_config *c, const sv_MonSettings *s, const char **why)
{
	SV_NAMES_BEGIN
	static const struct {
		char name[20];
		size_t off;
		bool ll;
	} nums[] = {
#define N(f, ll) { #f, offsetof(sv_MonSettings, f), ll }
		N(client_idle_ms, 0), N(client_peer_max, 0), N(client_root_reserve, 0),
		N(event_queue_max, 0), N(client_partial_max, 1), N(log_max_size, 1),
		N(log_max_files, 0), N(reattach_timeout_ms, 0),
#undef N
	};
	SV_NAMES_END

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		const char *f = (const char *)s + nums[i].off;
		if (set_num(c, nums[i].name, nums[i].ll ? *(const int64_t *)f : *(const int32_t *)f) < 0) {
			*why = nums[i].name;
			return -1;
		}
	}
	*why = "log_level";
	if (s->log_level < LOG_ERR || s->log_level > LOG_DEBUG ||
	    sv_config_set(c, "log_level", sv_log_level_name(s->log_level)) < 0)
		return -1;
	*why = "allow_uid or allow_gid";
	if (s->allow_uid_count > SV_ALLOW_MAX || s->allow_gid_count > SV_ALLOW_MAX)
		return -1;
	c->n_allow_uid = s->allow_uid_count;
	if (s->allow_uid_count)
		memcpy(c->allow_uid, s->allow_uid, s->allow_uid_count * sizeof(c->allow_uid[0]));
	c->n_allow_gid = s->allow_gid_count;
	if (s->allow_gid_count)
		memcpy(c->allow_gid, s->allow_gid, s->allow_gid_count * sizeof(c->allow_gid[0]));
	*why = "cgroup_parent";
	if (sv_config_set(c, "cgroup_parent", s->cgroup_parent ? s->cgroup_parent : "") < 0)
		return -1;
	c->task_cgroups_always = s->task_cgroups_always;
	*why = "seccomp";
	if (sv_config_set(c, "seccomp_profile", s->seccomp_profile ? s->seccomp_profile : "") < 0 ||
	    !s->seccomp || !s->seccomp->size)
		return -1;
	*why = NULL;
	return 0;
}

/* ---- the monitor's SIGHUP ---- */

/* The default tasks' profile of next (compact JSON, checked), or NULL with err. */
static char *profile_of(const struct sv_reload *rl, const struct sv_config *next, char *err,
			size_t errsz)
{
	char why[512];
	char *p = NULL;

	if (spec_seccomp_profile(next->seccomp_profile, &p, why, sizeof(why)) < 0) {
		snprintf(err, errsz, "%s: %s", rl->file, why);
		return NULL;
	}
	if (strlen(p) > SV_BYTES_MAX) {         /* cannot be, from 48 KiB: but never cut */
		snprintf(err, errsz, "%s: seccomp_profile %s: over %u bytes as compact JSON",
			 rl->file, next->seccomp_profile, SV_BYTES_MAX);
		free(p);
		return NULL;
	}
	return p;
}

void mon_reload(struct monitor *m)
{
	static struct sv_config next;   /* ~20 KiB: not on the stack */
	struct sv_reload *rl = m->reload;
	char err[1024], changed[512], fixed[256], *profile = NULL;
	sv_MonReply rep;
	int n, r;

	if (!rl)
		return;
	if (sv_config_reread(rl, &next, err, sizeof(err)) == 0 &&
	    !(profile = profile_of(rl, &next, err, sizeof(err))))
		sv_policy_free(&next.policy);
	if (!profile) {
		sv_warn("reload: %s; keeping the running settings", err);
		return;
	}
	n = sv_config_apply(rl->cfg, &next, changed, sizeof(changed), fixed, sizeof(fixed));
	if ((!rl->seccomp || strcmp(rl->seccomp, profile)) && !strstr(changed, "seccomp_profile"))
		name_in(changed, sizeof(changed), "seccomp_profile"), n++;
	free(rl->seccomp);
	rl->seccomp = profile;
	sv_log_set_level(rl->cfg->log_level);
	/* ours and the engine's (which cannot lower its own); a new engine inherits it */
	if (strstr(changed, "oom_score_adj") &&
	    ((r = sv_oom_score_adj_set(0, rl->cfg->oom_score_adj)) < 0 ||
	     (m->engine_pid > 0 && (r = sv_oom_score_adj_set(m->engine_pid, rl->cfg->oom_score_adj)) < 0)))
		sv_warn_err(r, "reload: oom_score_adj %d", rl->cfg->oom_score_adj);
	/* no spare wanted now: the waiting one ends on its closed socket (reaped as CHILD_IDLE) */
	if (!rl->cfg->warm_worker && m->idle_fd >= 0) {
		close(m->idle_fd);
		m->idle_fd = -1;
		m->idle_pid = 0;
	}
	if (rl->cfg->warm_worker && m->idle_fd < 0 && !m->warm_at_ms)
		m->warm_at_ms = sv_now_ms();    /* the loop execs one */
	if (fixed[0])
		sv_warn("reload: %s: changed; take effect at the next start", fixed);
	/* the engine's, unsolicited; without an engine (restarting), the next one is started
	 * with these settings */
	mon_reply_base(&rep, 0, "", "");
	rep.which_r = sv_MonReply_settings_tag;
	sv_settings_fill(&rep.r.settings, rl->cfg);
	rep.r.settings.seccomp = sv_bytes_new(profile, strlen(profile));
	if (rep.r.settings.seccomp)
		mon_send_reply_fds(m, &rep, NULL, 0);
	else
		sv_warn("reload: out of memory: the engine keeps its settings until its restart");
	free(rep.r.settings.seccomp);
	sv_notice("reload: %s: applied (%s)", rl->file, n ? changed : "no live setting changed");
}
