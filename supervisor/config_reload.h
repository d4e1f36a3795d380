/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/config_reload.h: SIGHUP: reread shimvisord.conf, the options again on top, and
 * apply what can change live (the monitor's settings, and the engine's by MonSettings). */
#ifndef SV_SUP_CONFIG_RELOAD_H
#define SV_SUP_CONFIG_RELOAD_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "monitor.pb.h"

/* The command-line options that set a setting, by its config-file name, in order: applied
 * over the file at start and again at each reload, so that they keep overriding it. */
#define SV_OVERRIDES_MAX 8
struct sv_overrides {
	size_t n;
	struct sv_override {
		char name[24];
		char value[PATH_MAX];
	} o[SV_OVERRIDES_MAX];
};
/* name = value into c (sv_config_set), recorded in ov (replacing an earlier one of name).
 * 0, or -1: unknown name, bad value, or ov full. */
int sv_override(struct sv_overrides *ov, struct sv_config *c, const char *name, const char *value);

/* What the monitor keeps to reload. */
struct sv_reload {
	char file[PATH_MAX];        /* the config file the daemon was started with */
	bool must_exist;            /* named by -c: its absence is an error */
	struct sv_overrides ov;
	struct sv_config *cfg;      /* the running settings (the monitor's; changed only here) */
	char *seccomp;              /* the profile the engine gives default tasks, compact JSON
				     * (spec_seccomp_profile); NULL: not known */
};

/* The file again from the defaults, the options on top, names resolved (/etc/passwd and
 * /etc/group, common/passwd.c): *next, with what is not a setting of the file (foreground)
 * taken from the running ones. 0, or -errno with err ("FILE:LINE: why" or "FILE: why"); next then holds nothing to free. */
int sv_config_reread(const struct sv_reload *rl, struct sv_config *next, char *err, size_t errsz);

/* Each setting of next that differs from run's: a live one is copied into run and named in
 * changed, any other is named in fixed (comma-separated; "" when none). next's policy is
 * taken (run's old one freed, or next's when equal). The number of live changes. */
int sv_config_apply(struct sv_config *run, struct sv_config *next, char *changed, size_t csz,
		    char *fixed, size_t fsz);
/* The setting of that config-file name ("policy" for [policy]): 1 it changes live, 0 it
 * takes effect at the next start, -1 no such setting. */
int sv_config_live(const char *name);

/* The engine's live settings, as the monitor sends them (MonSettings; seccomp left NULL, the
 * caller's). s's pointers point into c: nothing to free. */
void sv_settings_fill(sv_MonSettings *s, const struct sv_config *c);
/* MonSettings onto c (the engine's), each value checked as the config file would check it.
 * 0, or -1 with *why (c then partly changed: apply to a copy). */
int sv_settings_apply(struct sv_config *c, const sv_MonSettings *s, const char **why);

#endif
