/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/policy_config.c: the [policy] section: its safe defaults and its keys. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/names.h"
#include "policy.h"

/* The tables hold their strings inline (common/names.h): no pointer to relocate. */
SV_NAMES_BEGIN

/* containerd's and Docker's default capability set (containerd oci.defaultUnixCaps). */
const char sv_default_caps[][SV_CAP_NAME_SIZE] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};
const size_t sv_n_default_caps = sizeof(sv_default_caps) / sizeof(sv_default_caps[0]);

/* Docker's and containerd's default masked and read-only paths. */
const char sv_default_masked_paths[][SV_DEFAULT_PATH_SIZE] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
};
const size_t sv_n_default_masked_paths =
	sizeof(sv_default_masked_paths) / sizeof(sv_default_masked_paths[0]);
const char sv_default_readonly_paths[][SV_DEFAULT_PATH_SIZE] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
const size_t sv_n_default_readonly_paths =
	sizeof(sv_default_readonly_paths) / sizeof(sv_default_readonly_paths[0]);

/* <linux/capability.h> numbering, 0 .. CAP_CHECKPOINT_RESTORE (40). */
static const char cap_names[][SV_CAP_NAME_SIZE] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
SV_NAMES_END

int sv_cap_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (!strcmp(name, cap_names[i]))
			return (int)i;
	return -1;
}

const char *sv_cap_name(int n)
{
	return n >= 0 && (size_t)n < sizeof(cap_names) / sizeof(cap_names[0]) ? cap_names[n] : NULL;
}

SV_NAMES_BEGIN
/* The devices a default task is given (runc's): null, zero, full, random, urandom, tty,
 * console, ptmx, pts/N; also the names the devices key takes. */
const struct sv_policy_dev sv_default_devices[] = {
	{ 'c', 1, 3 }, { 'c', 1, 5 }, { 'c', 1, 7 }, { 'c', 1, 8 }, { 'c', 1, 9 },
	{ 'c', 5, 0 }, { 'c', 5, 1 }, { 'c', 5, 2 }, { 'c', 136, -1 },
};
const size_t sv_n_default_devices = sizeof(sv_default_devices) / sizeof(sv_default_devices[0]);
static const char dev_names[][8] = {
	"null", "zero", "full", "random", "urandom", "tty", "console", "ptmx", "pts",
};

static const struct {
	char name[8];
	unsigned bit;
} ns_names[] = {
	{ "pid", SV_NS_PID }, { "net", SV_NS_NET }, { "network", SV_NS_NET }, { "ipc", SV_NS_IPC },
	{ "uts", SV_NS_UTS }, { "mount", SV_NS_MOUNT }, { "cgroup", SV_NS_CGROUP },
	{ "user", SV_NS_USER },
};

/* Namespaced sysctls a task may set in its own namespaces (runc's and Docker's list). */
static const char default_sysctls[][24] = {
	"kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.shm_rmid_forced",
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "fs.mqueue.*", "net.*",
};
SV_NAMES_END

static void free_list(char **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

void sv_policy_free(struct sv_policy *p)
{
	free_list(p->bind_sources, &p->nbind);
	free_list(p->rootfs_sources, &p->nrootfs);
	free_list(p->sysctls, &p->nsysctls);
}

static bool lists_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

bool sv_policy_equal(const struct sv_policy *a, const struct sv_policy *b)
{
	if (a->caps != b->caps || a->host_ns != b->host_ns || a->ndevices != b->ndevices ||
	    a->oom_score_adj_min != b->oom_score_adj_min || a->privileged != b->privileged ||
	    a->userns != b->userns || a->userns_host_min != b->userns_host_min ||
	    a->userns_host_max != b->userns_host_max)
		return false;
	for (size_t i = 0; i < a->ndevices; i++)
		if (a->devices[i].type != b->devices[i].type ||
		    a->devices[i].major != b->devices[i].major ||
		    a->devices[i].minor != b->devices[i].minor)
			return false;
	return lists_equal(a->bind_sources, a->nbind, b->bind_sources, b->nbind) &&
	       lists_equal(a->rootfs_sources, a->nrootfs, b->rootfs_sources, b->nrootfs) &&
	       lists_equal(a->sysctls, a->nsysctls, b->sysctls, b->nsysctls);
}

static int add_str(char **v, size_t *n, size_t max, const char *s, size_t len)
{
	if (*n == max || !(v[*n] = strndup(s, len)))
		return -1;
	(*n)++;
	return 0;
}

void sv_policy_defaults(struct sv_policy *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < sv_n_default_caps; i++)
		p->caps |= 1ull << sv_cap_from_name(sv_default_caps[i]);
	for (size_t i = 0; i < sv_n_default_devices; i++)
		p->devices[p->ndevices++] = sv_default_devices[i];
	for (size_t i = 0; i < sizeof(default_sysctls) / sizeof(default_sysctls[0]); i++)
		(void)add_str(p->sysctls, &p->nsysctls, SV_POLICY_MAX_SYSCTLS, default_sysctls[i],
			      strlen(default_sysctls[i]));
	(void)add_str(p->rootfs_sources, &p->nrootfs, SV_POLICY_MAX_PATHS, "/var/lib/shimvisor",
		      strlen("/var/lib/shimvisor"));
	(void)add_str(p->rootfs_sources, &p->nrootfs, SV_POLICY_MAX_PATHS, "/srv", 4);
	/* above the ids of the host's own users (root and the system's among them), as
	 * kubelet's user namespaces; 4294967295 is no id */
	p->userns_host_min = 65536;
	p->userns_host_max = 4294967294u;
}

/* userns_host_ids: "MIN-MAX", decimal, MIN <= MAX < 4294967295 */
static int set_id_range(struct sv_policy *p, const char *v)
{
	unsigned long long a, b;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	a = strtoull(v, &end, 10);
	if (errno || *end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	v = end + 1;
	b = strtoull(v, &end, 10);
	if (errno || *end || a > b || b >= 4294967295ull)
		return -1;
	p->userns_host_min = (uint32_t)a;
	p->userns_host_max = (uint32_t)b;
	return 0;
}

/* The next word of *v (words are separated by blanks or commas): its start, and its length
 * in *len; NULL at the end. */
static const char *next_word(const char **v, size_t *len)
{
	const char *w = *v + strspn(*v, " \t,");

	if (!*w)
		return NULL;
	*len = strcspn(w, " \t,");
	*v = w + *len;
	return w;
}

/* "/abs/dir": no ".", ".." or empty component; a trailing / is dropped. */
static int abs_dir(const char *s, size_t len)
{
	if (len == 0 || s[0] != '/')
		return -1;
	for (size_t i = 0; i < len;) {
		size_t j = i + 1;
		while (j < len && s[j] != '/')
			j++;
		size_t c = j - i - 1;
		if ((c == 1 && s[i + 1] == '.') || (c == 2 && s[i + 1] == '.' && s[i + 2] == '.') ||
		    (c == 0 && j < len))
			return -1;
		i = j;
	}
	return 0;
}

static int set_paths(char **v, size_t *n, const char *value)
{
	const char *w;
	size_t len;

	free_list(v, n);
	while ((w = next_word(&value, &len))) {
		size_t l = len;
		while (l > 1 && w[l - 1] == '/')
			l--;
		if (abs_dir(w, l) < 0 || add_str(v, n, SV_POLICY_MAX_PATHS, w, l) < 0)
			return -1;
	}
	return 0;
}

/* "c 1:3", "c:1:3", "c 136:*", or a name of dev_names */
static int parse_dev(const char *w, size_t len, struct sv_policy_dev *d)
{
	char buf[64], *end, *q;

	for (size_t i = 0; i < sizeof(dev_names) / sizeof(dev_names[0]); i++)
		if (strlen(dev_names[i]) == len && !strncmp(w, dev_names[i], len)) {
			*d = sv_default_devices[i];
			return 0;
		}
	if (len >= sizeof(buf) || len < 5 || (w[0] != 'c' && w[0] != 'b') || w[1] != ':')
		return -1;
	memcpy(buf, w, len);
	buf[len] = 0;
	d->type = buf[0];
	q = buf + 2;
	errno = 0;
	d->major = strtoll(q, &end, 10);
	if (errno || end == q || *end != ':' || d->major < 0)
		return -1;
	q = end + 1;
	if (!strcmp(q, "*")) {
		d->minor = -1;
		return 0;
	}
	d->minor = strtoll(q, &end, 10);
	return errno || end == q || *end || d->minor < 0 ? -1 : 0;
}

static int set_bool(bool *dst, const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*dst = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*dst = false;
	else
		return -1;
	return 0;
}

int sv_policy_set(struct sv_policy *p, const char *name, const char *value)
{
	if (!strcmp(name, "capabilities")) {
		uint64_t caps = 0;
		const char *w;
		size_t len;
		while ((w = next_word(&value, &len))) {
			char cap[40];
			int n;
			if (len + 5 > sizeof(cap))
				return -1;
			/* CAP_X or X, any case */
			snprintf(cap, sizeof(cap), "%s%.*s",
				 strncasecmp(w, "CAP_", 4) ? "CAP_" : "", (int)len, w);
			for (char *c = cap; *c; c++)
				*c = (char)toupper((unsigned char)*c);
			if ((n = sv_cap_from_name(cap)) < 0)
				return -1;
			caps |= 1ull << n;
		}
		p->caps = caps;
		return 0;
	}
	if (!strcmp(name, "host_namespaces")) {
		unsigned bits = 0;
		const char *w;
		size_t len;
		while ((w = next_word(&value, &len))) {
			size_t i;
			for (i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++)
				if (strlen(ns_names[i].name) == len && !strncmp(w, ns_names[i].name, len))
					break;
			if (i == sizeof(ns_names) / sizeof(ns_names[0]))
				return -1;
			bits |= ns_names[i].bit;
		}
		p->host_ns = bits;
		return 0;
	}
	if (!strcmp(name, "bind_sources"))
		return set_paths(p->bind_sources, &p->nbind, value);
	if (!strcmp(name, "rootfs_sources"))
		return set_paths(p->rootfs_sources, &p->nrootfs, value);
	if (!strcmp(name, "devices")) {
		struct sv_policy_dev d[SV_POLICY_MAX_DEVS];
		size_t n = 0;
		/* entries are separated by commas; "c 1:3" may hold a blank */
		for (const char *w = value; *w;) {
			char one[64];
			size_t len = strcspn(w, ",");
			size_t a = strspn(w, " \t"), l = len - (a < len ? a : len);
			const char *s = w + a;
			while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
				l--;
			if (l) {
				if (l >= sizeof(one) || n == SV_POLICY_MAX_DEVS)
					return -1;
				memcpy(one, s, l);
				one[l] = 0;
				if (one[1] == ' ')
					one[1] = ':';
				if (parse_dev(one, l, &d[n++]) < 0)
					return -1;
			}
			w += len + (w[len] == ',');
		}
		memcpy(p->devices, d, n * sizeof(d[0]));
		p->ndevices = n;
		return 0;
	}
	if (!strcmp(name, "sysctls")) {
		const char *w;
		size_t len;
		free_list(p->sysctls, &p->nsysctls);
		while ((w = next_word(&value, &len)))
			if (add_str(p->sysctls, &p->nsysctls, SV_POLICY_MAX_SYSCTLS, w, len) < 0)
				return -1;
		return 0;
	}
	if (!strcmp(name, "oom_score_adj_min")) {
		char *end;
		long v;
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < -1000 || v > 1000)
			return -1;
		p->oom_score_adj_min = (int)v;
		return 0;
	}
	if (!strcmp(name, "privileged"))
		return set_bool(&p->privileged, value);
	if (!strcmp(name, "userns")) {
		SV_NAMES_BEGIN
		static const char modes[][8] = { [SV_USERNS_ALLOW] = "allow",
						  [SV_USERNS_REQUIRE] = "require",
						  [SV_USERNS_DENY] = "deny" };
		SV_NAMES_END
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (!strcmp(value, modes[i])) {
				p->userns = (uint8_t)i;
				return 0;
			}
		return -1;
	}
	if (!strcmp(name, "userns_host_ids"))
		return set_id_range(p, value);
	return -1;
}
