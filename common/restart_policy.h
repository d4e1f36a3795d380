/* SPDX-License-Identifier: Apache-2.0 */
/* common/restart_policy.h: a task's restart policy (docker run --restart): its parser, its
 * text, the decision after an exit and the backoff schedule. Pure: shared by the CLI, the
 * engine and the monitor (which keeps it in the bundle's `restart` file). */
#ifndef SV_COMMON_RESTART_POLICY_H
#define SV_COMMON_RESTART_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sv_restart_kind { SV_RESTART_NO, SV_RESTART_ON_FAILURE, SV_RESTART_ALWAYS,
		       SV_RESTART_UNLESS_STOPPED, SV_RESTART_NKINDS };

/* Backoff before restart K: 0.1 s doubling to 30 s; back to 0.1 s after a run of 10 s. */
#define SV_RESTART_BACKOFF_MIN_MS 100
#define SV_RESTART_BACKOFF_MAX_MS 30000
#define SV_RESTART_RESET_MS 10000
/* on-failure:N, N at most this */
#define SV_RESTART_MAX_N 1000000

struct sv_restart {
	uint32_t kind;          /* enum sv_restart_kind */
	uint32_t max;           /* on-failure:N: N (0: no limit) */
	uint32_t count;         /* restarts done */
	bool stopped;           /* killed, stopped or deleted by a client: the policy is over */
	bool auto_remove;       /* run --rm -d: deleted once it has exited (kind no only) */
};

/* "no", "on-failure", "on-failure:N" (N 1..SV_RESTART_MAX_N), "always", "unless-stopped";
 * "" is "no". 0, or -EINVAL. */
int sv_restart_parse(const char *s, struct sv_restart *out);
/* The policy as parsed ("on-failure:3"); buf of at least 32 bytes. */
const char *sv_restart_str(const struct sv_restart *r, char *buf, size_t size);
/* Whether a run that ended with status is restarted (and count is below on-failure's N). */
bool sv_restart_wanted(const struct sv_restart *r, uint32_t status);
/* The wait before the next restart: prev, the wait before this run (0: none yet), and how
 * long this run lasted. */
int64_t sv_restart_backoff(int64_t prev_ms, int64_t ran_ms);
/* The bundle's record: "<kind> <max> <count> <stopped> <auto_remove>\n" (a record of four
 * fields, written before auto_remove, still parses). Kind no is recorded only with
 * auto_remove, which goes with no other kind. Format into buf (>= 64 bytes), returns its
 * length; parse: 0 or -EINVAL (anything else in it). */
size_t sv_restart_record(const struct sv_restart *r, char *buf, size_t size);
int sv_restart_record_parse(const char *s, size_t len, struct sv_restart *out);

#endif
