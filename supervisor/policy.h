/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/policy.h: the most a task may be given ([policy] of shimvisord.conf), and the
 * monitor's check of a config.json against it before any root process reads the config. */
#ifndef SV_SUP_POLICY_H
#define SV_SUP_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A task's namespace types, as bits (host_namespaces). */
enum {
	SV_NS_PID = 1 << 0, SV_NS_NET = 1 << 1, SV_NS_IPC = 1 << 2, SV_NS_UTS = 1 << 3,
	SV_NS_MOUNT = 1 << 4, SV_NS_CGROUP = 1 << 5, SV_NS_USER = 1 << 6,
};

/* A device a task may be given: type 'c' or 'b', major, minor (-1 = any). */
struct sv_policy_dev {
	char type;
	int64_t major, minor;
};

#define SV_POLICY_MAX_PATHS 32
#define SV_POLICY_MAX_DEVS 64
#define SV_POLICY_MAX_SYSCTLS 32

/* userns: whether a task may (allow), must (require) or may not (deny) have a user
 * namespace of its own. */
enum sv_userns { SV_USERNS_ALLOW, SV_USERNS_REQUIRE, SV_USERNS_DENY };

struct sv_policy {
	uint64_t caps;                  /* bit n: CAP n may be in any of a process's sets */
	unsigned host_ns;               /* SV_NS_* a task may share with the host */
	/* absolute directories (no trailing /): a bind mount's source, or a root.path other
	 * than the read-only host "/", must be one of them or below one */
	char *bind_sources[SV_POLICY_MAX_PATHS];
	size_t nbind;
	char *rootfs_sources[SV_POLICY_MAX_PATHS];
	size_t nrootfs;
	struct sv_policy_dev devices[SV_POLICY_MAX_DEVS];
	size_t ndevices;
	char *sysctls[SV_POLICY_MAX_SYSCTLS];   /* exact names, or prefixes ending in '*' */
	size_t nsysctls;
	int oom_score_adj_min;
	uint8_t userns;                 /* enum sv_userns */
	/* the host ids a user namespace's uid and gid maps may name: [min, max] */
	uint32_t userns_host_min, userns_host_max;
	bool privileged;                /* on: no check but the JSON's shape */
};

/* What a config is checked for, beside the policy: whose task it is. */
struct sv_policy_task {
	const char *ns, *id;
	const char *cgroup_parent;      /* the daemon's; "" = no cgroups: no cgroupsPath */
};

/* The safe defaults (DESIGN.md, Policy). */
void sv_policy_defaults(struct sv_policy *p);
void sv_policy_free(struct sv_policy *p);
/* The same limits, entry by entry in order (a reload compares the old and the new). */
bool sv_policy_equal(const struct sv_policy *a, const struct sv_policy *b);
/* One [policy] key; the previous value of a list is replaced. 0, or -1 (unknown, bad). */
int sv_policy_set(struct sv_policy *p, const char *name, const char *value);

/* Check config.json (len bytes, not NUL-terminated) against p. 0, or -EPERM (beyond the
 * policy) / -EINVAL (not an OCI config we run) with why naming the field. */
int sv_policy_check(const struct sv_policy *p, const struct sv_policy_task *t,
		    const char *json, size_t len, char *why, size_t whysz);

/* The masked and read-only paths every config must keep (those of the default spec); the
 * names inline, as in the tables below (no pointer to relocate at load). */
#define SV_DEFAULT_PATH_SIZE 32
extern const char sv_default_masked_paths[][SV_DEFAULT_PATH_SIZE];
extern const size_t sv_n_default_masked_paths;
extern const char sv_default_readonly_paths[][SV_DEFAULT_PATH_SIZE];
extern const size_t sv_n_default_readonly_paths;
/* The capability set of a default task, and the policy's default ceiling. */
#define SV_CAP_NAME_SIZE 24
extern const char sv_default_caps[][SV_CAP_NAME_SIZE];
extern const size_t sv_n_default_caps;

/* The devices of a default task, and the policy's default devices. */
extern const struct sv_policy_dev sv_default_devices[];
extern const size_t sv_n_default_devices;

/* CAP_* name -> number, or -1; number -> CAP_* name, or NULL. */
int sv_cap_from_name(const char *name);
const char *sv_cap_name(int n);

#endif
