/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/opts.c: the CLI's option scanner and its value parsers (signals, users, ids,
 * cgroup limits). */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/cli/cli.h"
#include "common/cgroupfs.h"
#include "common/ids.h"
#include "common/names.h"

void opt_init(struct opt_scan *s, int argc, char **argv, const char *cmd)
{
	memset(s, 0, sizeof(*s));
	s->argc = argc;
	s->argv = argv;
	s->i = 1;
	s->cmd = cmd;
}

static int opt_fail(struct opt_scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int opt_fail(struct opt_scan *s, const char *fmt, ...)
{
	char m[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(s->err, sizeof(s->err), "%s: %s", s->cmd, m);
	return -1;
}

static int next_long(struct opt_scan *s, const struct opt_def *defs, const char **arg)
{
	const char *name = s->argv[s->i] + 2;
	const char *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);

	for (const struct opt_def *d = defs; d->key; d++) {
		/* a name may fill lng without a NUL */
		int ln = (int)strnlen(d->lng, sizeof(d->lng));

		if (!ln || (size_t)ln != n || strncmp(d->lng, name, n) != 0)
			continue;
		s->i++;
		if (!d->arg) {
			if (eq)
				return opt_fail(s, "option --%.*s takes no value", ln, d->lng);
			return d->key;
		}
		if (eq) {
			*arg = eq + 1;
		} else {
			if (s->i >= s->argc)
				return opt_fail(s, "option --%.*s needs a value", ln, d->lng);
			*arg = s->argv[s->i++];
		}
		return d->key;
	}
	return opt_fail(s, "unknown option %.64s", s->argv[s->i]);
}

static int next_short(struct opt_scan *s, const struct opt_def *defs, const char **arg)
{
	const char *word = s->argv[s->i];
	char ch = word[s->sub];
	char name[3] = { '-', ch, '\0' };

	for (const struct opt_def *d = defs; d->key; d++) {
		if (d->shrt != ch)
			continue;
		s->sub++;
		if (!d->arg) {
			if (word[s->sub] == '\0') {
				s->i++;
				s->sub = 0;
			}
			return d->key;
		}
		if (word[s->sub] != '\0') {
			*arg = word + s->sub;
			s->i++;
		} else {
			s->i++;
			if (s->i >= s->argc) {
				s->sub = 0;
				return opt_fail(s, "option %s needs a value", name);
			}
			*arg = s->argv[s->i++];
		}
		s->sub = 0;
		return d->key;
	}
	return opt_fail(s, "unknown option %s", name);
}

int opt_init_permute(struct opt_scan *s, int argc, char **argv, const char *cmd)
{
	opt_init(s, argc, argv, cmd);
	s->permute = true;
	s->ops = calloc((size_t)argc + 1, sizeof(*s->ops));
	return s->ops ? 0 : -ENOMEM;
}

void opt_free(struct opt_scan *s)
{
	free(s->ops);
	s->ops = NULL;
	s->nops = 0;
}

int opt_operands(const struct opt_scan *s, char ***ops)
{
	if (s->permute) {
		*ops = s->ops;
		return s->nops;
	}
	*ops = s->argv + s->i;
	return s->argc - s->i;
}

int opt_next(struct opt_scan *s, const struct opt_def *defs, const char **arg)
{
	const char *word;

	*arg = NULL;
	if (s->sub)
		return next_short(s, defs, arg);
	for (;;) {
		if (s->i >= s->argc)
			return 0;
		word = s->argv[s->i];
		if (strcmp(word, "--") == 0) {
			s->i++;
			while (s->permute && s->i < s->argc)
				s->ops[s->nops++] = s->argv[s->i++];
			return 0;
		}
		if (word[0] == '-' && word[1] != '\0')
			break;
		if (!s->permute)
			return 0;
		s->ops[s->nops++] = s->argv[s->i++];
	}
	if (word[1] == '-')
		return next_long(s, defs, arg);
	s->sub = 1;
	return next_short(s, defs, arg);
}

int cli_parse_u32(const char *s, uint32_t *v)
{
	unsigned long long n;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end || n > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)n;
	return 0;
}

SV_NAMES_BEGIN         /* the names inline (common/names.h): no pointer to relocate */
static const struct { char name[8]; int sig; } sigtab[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS },
	{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO }, { "POLL", SIGPOLL },
	{ "PWR", SIGPWR }, { "SYS", SIGSYS },
};
SV_NAMES_END

/* RTMIN, RTMIN+n, RTMAX, RTMAX-n (name without "SIG", any case). */
static int parse_rt(const char *s, int *sig)
{
	int base, dir;
	uint32_t off = 0;

	if (strncasecmp(s, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		dir = 1;
	} else if (strncasecmp(s, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		dir = -1;
	} else {
		return -EINVAL;
	}
	s += 5;
	if (*s) {
		if (*s != (dir > 0 ? '+' : '-') || cli_parse_u32(s + 1, &off) < 0 ||
		    off > (uint32_t)(SIGRTMAX - SIGRTMIN))
			return -EINVAL;
	}
	*sig = base + dir * (int)off;
	return 0;
}

int cli_parse_signal(const char *s, uint32_t *sig, char *err, size_t errsz)
{
	const char *name = s;
	uint32_t n;
	int rt;

	if (cli_parse_u32(s, &n) == 0) {
		if (n == 0 || n > (uint32_t)SIGRTMAX)
			goto bad;
		*sig = n;
		return 0;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < sizeof(sigtab) / sizeof(sigtab[0]); i++) {
		if (strcasecmp(name, sigtab[i].name) == 0) {
			*sig = (uint32_t)sigtab[i].sig;
			return 0;
		}
	}
	if (parse_rt(name, &rt) == 0) {
		*sig = (uint32_t)rt;
		return 0;
	}
bad:
	snprintf(err, errsz, "invalid signal \"%.64s\": want a number 1-%d or a name like TERM or SIGKILL",
		 s, SIGRTMAX);
	return -EINVAL;
}

int cli_parse_user(const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid,
		   char *err, size_t errsz)
{
	char buf[32];
	char *colon;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(buf))
		goto bad;
	memcpy(buf, s, n + 1);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (cli_parse_u32(buf, uid) < 0)
		goto bad;
	*has_gid = colon != NULL;
	*gid = 0;
	if (colon && cli_parse_u32(colon + 1, gid) < 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errsz, "invalid user \"%.64s\": want UID[:GID] (numbers)", s);
	return -EINVAL;
}

int cli_check_id(const char *what, const char *id, char *err, size_t errsz)
{
	char shown[4 * SV_ID_SZ + 8];
	size_t o = 0;

	if (id && sv_id_valid(id))
		return 0;
	/* Show the id on one line: non-printable bytes as \xNN, long ones cut. */
	for (const unsigned char *p = (const unsigned char *)(id ? id : ""); *p && o < 4 * (SV_ID_SZ - 2); p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x", *p);
		else
			shown[o++] = (char)*p;
	}
	shown[o] = '\0';
	snprintf(err, errsz, "invalid %s \"%s\": must match " SV_ID_RULE, what, shown);
	return -EINVAL;
}

/* "invalid OPT "S": WHY" in err; -EINVAL. */
static int bad_value(char *err, size_t errsz, const char *opt, const char *s, const char *why)
{
	snprintf(err, errsz, "invalid %s \"%.64s\": %s", opt, s, why);
	return -EINVAL;
}

/* Decimal digits at *s, at least one (no sign, no blanks), advancing *s. -EINVAL, -ERANGE. */
static int scan_u64(const char **s, uint64_t *v)
{
	if (!isdigit((unsigned char)**s))
		return -EINVAL;
	return cgfs_parse_u64(s, v);
}

int cli_parse_bytes(const char *s, int64_t *v, char *err, size_t errsz)
{
	static const char units[] = "kmg";          /* KiB, MiB, GiB */
	const char *p = s, *u = NULL;
	unsigned shift = 0;
	uint64_t n;
	int rc = scan_u64(&p, &n);

	if (rc == -ERANGE)
		return bad_value(err, errsz, "--memory", s, "too large");
	if (rc == 0 && *p)
		u = strchr(units, tolower((unsigned char)*p));
	if (u) {
		shift = 10 * (unsigned)(u - units + 1);
		p++;
	}
	if (rc < 0 || *p)
		return bad_value(err, errsz, "--memory", s,
				 "want bytes, with an optional k, m or g suffix (64m)");
	if (n == 0)
		return bad_value(err, errsz, "--memory", s, "must be > 0");
	if (n > (uint64_t)INT64_MAX >> shift)
		return bad_value(err, errsz, "--memory", s, "too large");
	*v = (int64_t)(n << shift);
	return 0;
}

int cli_parse_pids(const char *s, int64_t *v, char *err, size_t errsz)
{
	const char *p = s;
	uint64_t n;
	int rc = scan_u64(&p, &n);

	if (rc == -ERANGE || (rc == 0 && !*p && n > INT64_MAX))
		return bad_value(err, errsz, "--pids", s, "too large");
	if (rc < 0 || *p)
		return bad_value(err, errsz, "--pids", s, "want a whole number");
	if (n == 0)
		return bad_value(err, errsz, "--pids", s, "must be > 0");
	*v = (int64_t)n;
	return 0;
}

/* The digits after a decimal point, 1 to 3 of them, in thousandths ("5" -> 500). */
static int scan_milli(const char **s, uint64_t *milli)
{
	const char *p = *s;
	uint64_t f = 0;
	int n = 0;

	for (; isdigit((unsigned char)*p); p++, n++)
		if (n < 3)
			f = f * 10 + (uint64_t)(*p - '0');
	if (n == 0)
		return -EINVAL;
	if (n > 3)
		return -ERANGE;
	for (; n < 3; n++)
		f *= 10;
	*milli = f;
	*s = p;
	return 0;
}

int cli_parse_cpus(const char *s, uint32_t *milli, char *err, size_t errsz)
{
	const char *p = s;
	uint64_t whole, frac = 0;
	int rc = scan_u64(&p, &whole);

	if (rc == 0 && *p == '.') {
		p++;
		rc = scan_milli(&p, &frac);
		if (rc == -ERANGE)
			return bad_value(err, errsz, "--cpus", s, "at most 3 decimals");
	}
	if (rc == -ERANGE || (rc == 0 && !*p && (whole > CLI_CPUS_MAX ||
						   whole * 1000 + frac > CLI_CPUS_MAX * 1000u))) {
		char why[48];

		snprintf(why, sizeof(why), "too large (at most %u)", CLI_CPUS_MAX);
		return bad_value(err, errsz, "--cpus", s, why);
	}
	if (rc < 0 || *p)
		return bad_value(err, errsz, "--cpus", s,
				 "want a number of CPUs such as 0.5, 1 or 1.25");
	if (whole == 0 && frac == 0)
		return bad_value(err, errsz, "--cpus", s, "must be > 0");
	*milli = (uint32_t)(whole * 1000 + frac);
	return 0;
}
