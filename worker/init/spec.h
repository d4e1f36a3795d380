/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec.h: the OCI runtime spec (config.json) as shimvisor-init uses it. */
#ifndef SV_INIT_SPEC_H
#define SV_INIT_SPEC_H
#include <stddef.h>
#include <stdint.h>

/* Capability sets, indexes into spec_process.caps[]. */
enum spec_capset { CAPSET_BOUNDING, CAPSET_EFFECTIVE, CAPSET_PERMITTED, CAPSET_INHERITABLE,
		   CAPSET_AMBIENT, CAPSET_COUNT };

struct spec_rlimit {
	int resource;                   /* RLIMIT_* */
	uint64_t soft, hard;
};

struct spec_process {
	char **args;                    /* NULL-terminated, at least one */
	size_t nargs;
	char **env;                     /* NULL-terminated, maybe empty */
	size_t nenv;
	char *cwd;                      /* absolute; "/" when absent */
	int terminal;
	uint16_t console_w, console_h;  /* consoleSize; 0 when absent (the kernel's 0x0) */
	uint32_t uid, gid;
	uint32_t *gids;                 /* additionalGids */
	size_t ngids;
	int has_umask;
	uint32_t umask;
	struct spec_rlimit *rlimits;
	size_t nrlimits;
	int has_caps;                   /* process.capabilities present */
	uint64_t caps[CAPSET_COUNT];    /* bit n = capability n */
	int no_new_privs;
	int has_oom_score_adj;
	int oom_score_adj;
};

struct spec_mount {
	char *dest;                     /* absolute, inside the container */
	char *type;                     /* "" when absent (bind mounts) */
	char *source;                   /* "" when absent */
	char **options;
	size_t noptions;
};

struct spec_ns {
	int flag;                       /* CLONE_NEW* */
	char *path;                     /* join this one; NULL = create */
};

/* linux.uidMappings / gidMappings: ids containerID.. map to hostID.. (size of them). */
struct spec_idmap {
	uint32_t container, host, size;
};
/* The kernel's limit of lines in a uid_map or gid_map (Linux 4.15 and later). */
#define SPEC_IDMAP_MAX 340

struct spec_kv {
	char *key, *value;
};

struct spec_sc_arg {
	uint32_t index;
	uint64_t value, value2;
	int op;                         /* enum scmp_compare */
};

struct spec_sc_rule {
	char **names;
	size_t nnames;
	uint32_t action;                /* libseccomp SCMP_ACT_* value, errno folded in */
	struct spec_sc_arg *args;
	size_t nargs;
};

struct spec_seccomp {
	uint32_t default_action;
	uint32_t *archs;                /* libseccomp SCMP_ARCH_* tokens */
	size_t narchs;
	struct spec_sc_rule *rules;
	size_t nrules;
	int flag_log, flag_spec_allow;  /* SECCOMP_FILTER_FLAG_LOG / _SPEC_ALLOW */
	uint8_t digest[32];             /* sha256 of linux.seccomp as compact JSON */
};

struct spec_resources;

struct spec {
	struct spec_process process;
	char *root_path;
	int root_readonly;
	char *hostname;                 /* NULL when absent */
	struct spec_mount *mounts;
	size_t nmounts;
	struct spec_ns *ns;
	size_t nns;
	struct spec_idmap *uid_map, *gid_map;   /* only with a new user namespace */
	size_t nuid_map, ngid_map;
	unsigned long rootfs_propagation; /* MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE */
	char **masked;
	size_t nmasked;
	char **readonly;
	size_t nreadonly;
	struct spec_kv *sysctl;
	size_t nsysctl;
	struct spec_seccomp *seccomp;   /* NULL when absent */
	int lo_down;                    /* annotation io.shimvisor.net = "none": leave lo down */
	int root_nodev;                 /* annotation io.shimvisor.root.nodev = "true" */
	char *cgroups_path;             /* linux.cgroupsPath; NULL/"" = no cgroup of its own */
	char *cgroup_lazy;              /* annotation io.shimvisor.cgroup.lazy, or NULL */
	struct spec_resources *resources; /* linux.resources, NULL when absent */
};

/* Parse config.json. 0, or -EINVAL/-ENOMEM with "what: why" in err. On failure *out holds
 * nothing that needs freeing; on success release it with spec_free(). */
int spec_parse(const char *json, size_t len, struct spec *out, char *err, size_t errsz);
void spec_free(struct spec *s);
/* Parse a bare OCI Process object (an exec's spec), as spec_parse does config.json's
 * "process"; errors start with "exec spec: ". Release with spec_process_free(). */
int spec_parse_process(const char *json, size_t len, struct spec_process *out, char *err,
		       size_t errsz);
void spec_process_free(struct spec_process *p);
/* Clamp an exec's Process to its task's (config.json's): no capability, in any of the five
 * sets, outside the task's bounding set (-EPERM, err names the set and the capability); no
 * capabilities given = the task's; the task's no_new_privs always. Ids are not clamped: an
 * exec runs in the task's user namespace, which bounds them. 0 or -EPERM. */
int spec_exec_clamp(const struct spec_process *task, struct spec_process *exec, char *err,
		    size_t errsz);

/* The namespace entry of this CLONE_NEW* type, or NULL. */
const struct spec_ns *spec_find_ns(const struct spec *s, int flag);

#endif
