/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_info.c: the commands about the daemon as a whole: ls, events, version. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "wire/limits.h"

enum { K_QUIET = 1, K_FORMAT, K_FILTER };

/* Options of ls (f: its filters) and events (f NULL); no operands. */
static int scan(int argc, char **argv, struct ls_filter *f, bool *quiet, bool *json)
{
	static const struct opt_def defs[] = {
		{ "quiet", 'q', false, K_QUIET }, { "format", 0, true, K_FORMAT },
		{ "filter", 'f', true, K_FILTER }, { "", 0, false, 0 },
	};
	char err[CLI_ERR_MAX];
	struct opt_scan s;
	const char *arg;
	int key;

	opt_init(&s, argc, argv, argv[0]);
	while ((key = opt_next(&s, defs, &arg)) > 0) {
		if ((key == K_QUIET || key == K_FILTER) && !f) {
			cli_error("%s: unknown option %s", argv[0], key == K_QUIET ? "-q" : "--filter");
			return CLI_EXIT_USAGE;
		} else if (key == K_QUIET) {
			*quiet = true;
		} else if (key == K_FILTER) {
			if (ls_filter_add(f, arg, err, sizeof(err)) < 0) {
				cli_error("%s", err);
				return CLI_EXIT_USAGE;
			}
		} else if (strcmp(arg, "json") == 0) {
			*json = true;
		} else if (strcmp(arg, "text") != 0 && strcmp(arg, "table") != 0) {
			cli_error("%s: invalid --format \"%.32s\": want json", argv[0], arg);
			return CLI_EXIT_USAGE;
		}
	}
	if (key < 0) {
		cli_error("%s", s.err);
		return CLI_EXIT_USAGE;
	}
	if (s.i < argc) {       /* no operands: the first one ends the options, and is refused */
		cli_error("%s: unexpected argument \"%.64s\"", argv[0], argv[s.i]);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cmd_ls(const struct cli *g, int argc, char **argv)
{
	bool quiet = false, json = false;
	struct ls_filter f = { 0 };
	sv_CtlListResponse l;
	struct sbuf b = { 0 };
	struct sv_client *c;
	int rc = scan(argc, argv, &f, &quiet, &json);

	if (rc)
		return rc;
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = sv_list(c, &l);
	if (rc < 0) {
		rc = cli_call_error(c, rc, "ls");
		sv_close(c);
		return rc;
	}
	ls_filter_apply(&f, &l);
	if (json)
		cli_ls_json(&b, &l);
	else
		cli_ls_table(&b, &l, quiet);
	if ((rc = sb_flush_fd(&b, STDOUT_FILENO)) < 0)
		rc = cli_error("ls: write output: %s", strerror(-rc));
	sb_free(&b);
	sv_pb_free(sv_CtlListResponse_fields, &l);
	sv_close(c);
	return rc;
}

int cmd_events(const struct cli *g, int argc, char **argv)
{
	bool quiet = false, json = false;
	struct sbuf b = { 0 };
	struct sv_client *c;
	sv_Envelope env;
	int rc = scan(argc, argv, NULL, &quiet, &json);

	if (rc)
		return rc;
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = sv_subscribe(c);
	while (rc == 0 && (rc = sv_next_event(c, &env, -1)) == 0) {
		if (json)
			cli_event_json(&b, &env);
		else
			cli_event_text(&b, &env);
		sv_pb_free(sv_Envelope_fields, &env);
		rc = sb_flush_fd(&b, STDOUT_FILENO);
		if (rc < 0) {
			/* the reader went away (e.g. "| head"): not an error of ours */
			rc = rc == -EPIPE ? 0 : cli_error("events: write output: %s", strerror(-rc));
			sb_free(&b);
			sv_close(c);
			return rc;
		}
	}
	rc = cli_call_error(c, rc, "events");
	sb_free(&b);
	sv_close(c);
	return rc;
}

/* A time in ms since the epoch, in UTC. */
static void sb_time_ms(struct sbuf *b, long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(s, sizeof(s), "%lld", ms / 1000);
	sb_printf(b, "%s.%03lldZ", s, ms % 1000);
}

/* The engine's health: restarts, and the last end with the wait before the engine that
 * answered (each field on its own line, "  Name: value", for scripts). */
static void version_engine(struct sbuf *b, const sv_CtlVersionResponse *v)
{
	if (!v->engine_started_ms)
		return;         /* a daemon that keeps no record */
	sb_printf(b, "  Engine restarts: %u\n  Engine started: ", v->engine_restarts);
	sb_time_ms(b, v->engine_started_ms);
	sb_printf(b, "\n");
	if (!v->engine_restarts)
		return;
	sb_printf(b, "  Last engine end: %s, at ", v->last_engine_end ? v->last_engine_end : "");
	sb_time_ms(b, v->last_engine_end_ms);
	sb_printf(b, "\n  Restart attempt: %u (backoff %u ms, waited %u ms)\n", v->restart_attempt,
		  v->restart_backoff_ms, v->restart_waited_ms);
}

/* version --format json: {"client": {"version"}, "server": {"version", "revision",
 * "engine_restarts", "engine_started_ms", "last_engine_end", "last_engine_end_ms",
 * "restart_backoff_ms", "restart_waited_ms", "restart_attempt"}} (server absent when the
 * daemon did not answer). */
static void version_json(struct sbuf *b, const sv_CtlVersionResponse *v)
{
	struct jw w;

	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "client");
	jw_obj(&w);
	jw_key(&w, "version");
	jw_str(&w, SV_VERSION);
	jw_obj_end(&w);
	if (v) {
		const struct { const char *key; uint64_t n; } nums[] = {
			{ "engine_restarts", v->engine_restarts },
			{ "engine_started_ms", v->engine_started_ms > 0 ? (uint64_t)v->engine_started_ms : 0 },
			{ "last_engine_end_ms", v->last_engine_end_ms > 0 ? (uint64_t)v->last_engine_end_ms : 0 },
			{ "restart_backoff_ms", v->restart_backoff_ms },
			{ "restart_waited_ms", v->restart_waited_ms },
			{ "restart_attempt", v->restart_attempt },
		};

		jw_key(&w, "server");
		jw_obj(&w);
		jw_key(&w, "version");
		jw_str(&w, v->version);
		jw_key(&w, "revision");
		jw_str(&w, v->revision);
		jw_key(&w, "last_engine_end");
		jw_str(&w, v->last_engine_end);
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
			jw_key(&w, nums[i].key);
			jw_u64(&w, nums[i].n);
		}
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	sb_putc(b, '\n');
}

int cmd_version(const struct cli *g, int argc, char **argv)
{
	bool quiet = false, json = false;
	sv_CtlVersionResponse v;
	struct sv_client *c;
	struct sbuf b = { 0 };
	int rc = scan(argc, argv, NULL, &quiet, &json);

	if (rc)
		return rc;
	if (!json) {
		sb_printf(&b, "Client:\n  Version:  %s\n\n", SV_VERSION);
		sb_flush_fd(&b, STDOUT_FILENO);
	}
	if (!(c = cli_connect(g))) {
		if (json) {     /* what the client knows: its own version */
			version_json(&b, NULL);
			sb_flush_fd(&b, STDOUT_FILENO);
		}
		sb_free(&b);
		return CLI_EXIT_FAIL;
	}
	rc = sv_version(c, &v);
	if (rc < 0) {
		rc = cli_call_error(c, rc, "version");
	} else {
		if (json) {
			version_json(&b, &v);
		} else {
			sb_printf(&b, "Server:\n  Version:  %s\n  Revision: %s\n",
				  v.version ? v.version : "", v.revision ? v.revision : "");
			version_engine(&b, &v);
		}
		if ((rc = sb_flush_fd(&b, STDOUT_FILENO)) < 0)
			rc = cli_error("version: write output: %s", strerror(-rc));
		sv_pb_free(sv_CtlVersionResponse_fields, &v);
	}
	sb_free(&b);
	sv_close(c);
	return rc;
}
